"""Grading a whole class with exercises/grade.py, as a teaching assistant does (session 68's trial): submissions in a
folder per student (nbgrader's ``submitted/<student>/<assignment>/``, an LMS export), notebooks saved mid-edit or
empty, scratch cells that sleep, a run watched through a pipe, and the summary at the end."""
from __future__ import annotations

import csv
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from esxlab import problems
from esxlab.errors import first_line

from answers import answered, fails, grade_script, solved

pytest.importorskip("nbclient")                         # the "exercises" extra; the "test" extra installs it

ROOT = Path(__file__).resolve().parents[1]
GRADE = ROOT / "exercises" / "grade.py"
GIVEN = ROOT / "exercises" / "release" / "idle_memory_tax.ipynb"
GUIDE = " ".join((ROOT / "exercises" / "README.md").read_text().split())


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(GRADE), str(GIVEN), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


def _write(nb, path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return str(path)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _csv_students(path: Path) -> list[str]:
    return [row["student"] for row in _csv_rows(path)]


def test_the_timeout_is_for_the_whole_notebook_not_each_cell(tmp_path):
    """Three scratch cells of a student's own, each sleeping 3 s, ran 9 s under ``--timeout 5``: the timeout was per
    cell, so a notebook could take its number of cells times the timeout. (Here 8 s each under ``--timeout 16``: the
    cells before them have 16 s on a slow machine.)"""
    nb = solved("idle_memory_tax")
    at = next(i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
              == "rho-check") + 1
    for _ in range(3):
        nb.cells.insert(at, nbformat.v4.new_code_cell("import time\ntime.sleep(8)   # my scratch cell"))
    done = _run(tmp_path, _write(nb, tmp_path / "ada.ipynb"), "--timeout", "16")
    assert done.returncode == 0, done.stderr
    stopped, points = done.stdout.strip().split("\n")
    assert points == "2 / 4 points" and re.fullmatch(
        r"stopped: the notebook ran over its timeout of 16 s \(all its cells together\), in cell (\d+); the check "
        r"cells after it score 0", stopped), done.stdout
    assert int(re.fullmatch(r".* in cell (\d+);.*", stopped).group(1)) - 1 in range(at, at + 3), "a scratch cell"
    assert "seconds a student's notebook may run, all its cells together" in GUIDE


def test_cells_that_start_once_the_notebooks_timeout_is_up_stop_the_run(tmp_path):
    """Past the notebook's timeout each cell still got a whole second (nbclient takes 0 for no limit), so thirty
    scratch cells of 0.5 s each after the handout ran on to the end under ``--timeout 6``, 23 s, unstopped."""
    nb = nbformat.read(GIVEN, as_version=4)
    nb.cells += [nbformat.v4.new_code_cell("import time\ntime.sleep(0.5)   # my scratch cell") for _ in range(30)]
    done = _run(tmp_path, _write(nb, tmp_path / "ada.ipynb"), "--timeout", "6")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stopped: the notebook ran over its timeout of 6 s (all its cells together), in "), \
        done.stdout


def test_the_notebooks_time_left_is_a_moment_once_it_is_up_and_grade_pys_own_cell_has_its_own(monkeypatch):
    """What nbclient is told each cell may run (a clock of the test's): the seconds left from the first cell's start,
    then a moment (not the whole second each cell got); grade.py's counting cell after the student's gets its own."""
    grade, now = grade_script(), [100.0]
    monkeypatch.setattr(grade.time, "monotonic", lambda: now[0])
    cell, own = nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(grade.COUNT_CELL)
    left = grade._budget(6, own)
    assert left(cell) == 6
    now[0] += 5.5
    assert left(cell) == 0.5
    now[0] += 1
    assert 0 < left(cell) < 0.01 and left(own) == grade.COUNT_CELL_S


def test_students_whose_files_keep_the_handouts_name_are_told_apart_in_the_csv(tmp_path, monkeypatch):
    """nbgrader's submitted/<student>/tax/idle_memory_tax.ipynb and an LMS's folder per student keep the handout's
    file name: every CSV row was named ``idle_memory_tax``, and a second copy ``idle_memory_tax (1)``. (Each
    notebook's grading is stubbed: the names are what is checked.)"""
    grade, nb = _stubbed(monkeypatch), solved("idle_memory_tax")
    files = [_write(nb, tmp_path / "submitted" / name / "tax" / "idle_memory_tax.ipynb") for name in ("ada", "zoë")]
    files.append(_write(nb, tmp_path / "Bob Smith_102_assignsubmission_file_" / "idle_memory_tax (1).ipynb"))
    files.append(_write(nb, tmp_path / "flat" / "cyd.ipynb"))
    monkeypatch.chdir(tmp_path)
    assert grade.main([str(GIVEN), *(os.path.relpath(f, tmp_path) for f in files), "--csv", "tax.csv"]) == 0
    assert _csv_students(tmp_path / "tax.csv") == [
        "submitted/ada/tax/idle_memory_tax", "submitted/zoë/tax/idle_memory_tax",
        "Bob Smith_102_assignsubmission_file_/idle_memory_tax (1)", "cyd"]
    assert "named by its path as given" in GUIDE


def test_students_whose_files_share_a_name_or_keep_the_handouts_in_capitals_are_told_apart():
    """A review: two students' Untitled.ipynb, each in a folder of their own, were both named ``Untitled``, and
    nbgrader's layout with the file saved as Idle_Memory_Tax.ipynb named every row ``Idle_Memory_Tax``."""
    grade, given = grade_script(), Path("release/idle_memory_tax.ipynb")
    lms = [Path("lms/ada/Untitled.ipynb"), Path("lms/bob/untitled.ipynb"), Path("lms/cyd/cyd.ipynb")]
    assert list(grade._names(lms, given, set()).values()) == ["lms/ada/Untitled", "lms/bob/untitled", "cyd"]
    caps = [Path(f"submitted/{who}/tax/Idle_Memory_Tax.ipynb") for who in ("ada", "bob")]
    assert grade._names(caps[:1], given, set()) == {caps[0]: "submitted/ada/tax/Idle_Memory_Tax"}, "alone too"
    assert "or another student's of the run has the same name" in GUIDE


def test_a_class_of_thousands_is_named_in_a_look_at_each_name(monkeypatch):
    """Each student's name was compared with every other student's: a class of n, n² looks (10 000 notebooks, 10⁸)."""
    grade, looked = grade_script(), []
    stem = grade._stem
    monkeypatch.setattr(grade, "_stem", lambda student: looked.append(student) or stem(student))
    students = [Path(f"submitted/s{n}.ipynb") for n in range(300)] + [Path("lms/a/s7.ipynb")]
    named = grade._names(students, Path("release/idle_memory_tax.ipynb"), set())
    assert len(looked) <= 2 * len(students), len(looked)
    assert [named[s] for s in students[6:9]] == ["s6", "submitted/s7", "s8"] and named[students[-1]] == "lms/a/s7"


def test_each_students_result_shows_while_the_next_runs_through_a_pipe(tmp_path):
    """``grade.py … | tee grading.log``: Python buffers its output through a pipe, so nothing showed until every
    student was graded (minutes, with a student's endless loop)."""
    ada = _write(solved("idle_memory_tax"), tmp_path / "ada.ipynb")
    nb = solved("idle_memory_tax")
    nb.cells.insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(60)"))
    slow = _write(nb, tmp_path / "slow.ipynb")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with subprocess.Popen([sys.executable, str(GRADE), str(GIVEN), ada, slow, "--timeout", "6"], cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env) as proc:
        lines = [proc.stdout.readline() for _ in range(3)]
        running = proc.poll() is None
        shown = time.monotonic()
        proc.communicate(timeout=600)
        waited = time.monotonic() - shown
    assert lines == [f"== {ada}\n", "4 / 4 points\n", f"== {slow}\n"], lines
    assert running and waited > 3, f"ada's points showed {waited:.1f} s before the end"


def test_a_class_ends_with_a_summary_line_per_student(tmp_path):
    """With a class's output scrolled past (and refusals on stderr), which student failed why was hard to find: a
    summary ends the run, a line per student."""
    ada = _write(solved("idle_memory_tax"), tmp_path / "ada.ipynb")
    lee = _write(nbformat.read(GIVEN, as_version=4), tmp_path / "lee.ipynb")
    (tmp_path / "hal.ipynb").write_text("")
    done = _run(tmp_path, ada, lee, "hal.ipynb")
    assert done.returncode == 1
    summary = done.stdout.split("== summary")[1].strip().split("\n")
    assert summary[0] == ": 3 students; 2 graded, 1 refused", summary
    assert [line.split()[:4] for line in summary[2:]] == [
        ["ada", "4", "/", "4"], ["lee", "0", "/", "4"], ["hal", "refused", "is", "empty"]], summary
    assert "rho-check: not answered yet; targets-check: not answered yet" in summary[3], summary
    assert summary[4].endswith("refused  is empty (0 bytes: nothing was saved); allowed: an .ipynb file of the "
                               "exercises."), "the student column names the file: the why does not again"
    assert "a summary, a line per student" in GUIDE
    assert "== summary" + done.stdout.split("== summary")[1] in (ROOT / "exercises" / "README.md").read_text(), \
        "the guide shows the summary as printed"


def test_the_summary_shows_why_a_check_failed_without_the_checkers_lead_in(capsys):
    """A failed check's 100 characters in the summary began ``CheckFailed: Both answers need another look: -``: the
    name every check's error has, and the line over its answers' lines, before the first word of the reason."""
    grade = grade_script()
    said = fails(problems.RhoVictim(seed=0), {"rhos": [0.1, 0.2, 0.3], "victim": "nobody"})
    error = nbformat.v4.new_output("error", ename="CheckFailed", evalue=said, traceback=[])
    message = grade._message(nbformat.v4.new_code_cell(outputs=[error], execution_count=7), {"status": "error"})
    assert message.startswith("CheckFailed: Both answers need another look:\n"), message
    grade.show_summary([("lee", "graded", [("rho-check", 0, 2, message), ("targets-check", 2, 2, "correct")], [])])
    line = capsys.readouterr().out.split("\n")[2]
    assert "need another look" not in line and "CheckFailed" not in line, line
    assert line.startswith("lee ") and " 2 / 4  rho-check: 2 wrong: `rhos`: apply ρ" in line, line


def test_the_summary_names_every_wrong_answer_of_a_check(capsys):
    """Each reason in the summary was cut at 100 characters: a first wrong answer with a long hint (``rhos``'s
    formula) left no room for the second (``victim``), which the summary dropped without a word (session 70's class).
    Each answer's reason is now shortened instead, and every wrong answer is named."""
    grade = grade_script()
    p = problems.RhoVictim(seed=0)
    said = fails(p, {"rhos": [0.1, 0.2, 0.3], "victim": next(v["name"] for v in p.vms if v["name"] != "db")})
    assert len(said.split("\n")[1]) > 100, "the first answer's line alone is longer than the old cut"
    error = nbformat.v4.new_output("error", ename="CheckFailed", evalue=said, traceback=[])
    message = grade._message(nbformat.v4.new_code_cell(outputs=[error], execution_count=7), {"status": "error"})
    grade.show_summary([("lee", "graded", [("rho-check", 0, 2, message), ("targets-check", 0, 2, "not answered yet")],
                         [])])
    why = capsys.readouterr().out.split("\n")[2].split("0 / 4  ")[1]
    assert "`victim`" in why, why
    shown = [first_line(grade.NOT_RIGHT.sub(r"\1: ", line.removeprefix("- ")), grade.ANSWER_CHARS)
             for line in said.split("\n")[1:]]
    assert why == f"rho-check: 2 wrong: {shown[0]}; {shown[1]}; targets-check: not answered yet", why
    assert shown[0].startswith("`rhos`: ") and shown[1].startswith("`victim`: "), shown
    assert "every wrong answer's name" in GUIDE


def test_a_mistyped_students_path_is_refused_before_grading_with_the_names_near_it(tmp_path, monkeypatch):
    """A mistyped student's path was graded as a refused student: a row in the CSV for someone who does not exist,
    there for good (rows are only ever added), and "allowed: an .ipynb file", as if the file's type were wrong."""
    grade = grade_script()
    for name in ("lee", "leo", "ada"):
        _write(solved("idle_memory_tax"), tmp_path / "submitted" / f"{name}.ipynb")
    monkeypatch.chdir(tmp_path)
    for typo, near in (("submitted/lea.ipynb", "submitted has lee.ipynb, leo.ipynb"),
                       ("submited/ada.ipynb", "no folder submited; the current folder has submitted"),
                       ("submitted/zed.ipynb", "submitted has no name close to zed.ipynb")):
        with pytest.raises(SystemExit) as done:
            grade.main([str(GIVEN), "submitted/ada.ipynb", typo, "--csv", "tax.csv"])
        assert done.value.code == f"error: {typo} does not exist ({near}); allowed: the path of a student's " \
                                  "notebook, or of a folder holding it, that exists.", done.value.code
        assert not (tmp_path / "tax.csv").exists(), "no row, for that student or any other"
    assert "is refused before any student is graded" in GUIDE


def test_the_solutions_notebook_given_as_the_handed_out_one_is_refused(tmp_path, monkeypatch):
    """exercises/source/…, the solutions, given as the handed-out notebook was taken without a word: each student was
    compared with the solutions' cells."""
    grade = grade_script()
    source = GIVEN.parents[1] / "source" / GIVEN.name
    monkeypatch.chdir(tmp_path)
    for handed_out, instead in ((source, GIVEN), (_write(solved("idle_memory_tax"), tmp_path / "tax.ipynb"), None)):
        with pytest.raises(SystemExit) as done:
            grade.main([str(handed_out), str(source)])
        assert done.value.code == (
            f"error: the handed-out notebook {handed_out} holds the solutions (its answer cells have ### BEGIN "
            f"SOLUTION markers); allowed: the student version, "
            + (f"{instead}." if instead else "as exercises/release/ (or nbgrader's release/) holds it.")), \
            done.value.code
    assert "holds the solutions" in GUIDE


def test_a_csv_of_another_exercise_is_refused_in_a_short_sentence(tmp_path, monkeypatch, capsys):
    """Appending to another exercise's CSV was refused by listing both column sets in full (two dozen names)."""
    grade = _stubbed(monkeypatch)
    _write(solved("idle_memory_tax"), tmp_path / "ada.ipynb")
    monkeypatch.chdir(tmp_path)
    assert grade.main([str(GIVEN), "ada.ipynb", "--csv", "tax.csv"]) == 0
    capsys.readouterr()
    sampling = GIVEN.with_name("sampling.ipynb")
    with pytest.raises(SystemExit) as done:
        grade.main([str(sampling), "ada.ipynb", "--csv", "tax.csv"])
    assert done.value.code == ("error: --csv tax.csv was written for idle_memory_tax.ipynb; allowed: another --csv "
                               "path, or a new file (one CSV per exercise)."), done.value.code
    (tmp_path / "header.csv").write_text((tmp_path / "tax.csv").read_text().split("\n")[0] + "\n")   # (no row yet)
    with pytest.raises(SystemExit) as done:
        grade.main([str(sampling), "ada.ipynb", "--csv", "header.csv"])
    assert done.value.code == ("error: --csv header.csv was written for other check cells (rho-check, targets-check); "
                               "allowed: another --csv path, or a new file (one CSV per exercise)."), done.value.code
    (tmp_path / "other.csv").write_text("name,score\nada,3\n")
    with pytest.raises(SystemExit) as done:
        grade.main([str(sampling), "ada.ipynb", "--csv", "other.csv"])
    assert done.value.code == ("error: --csv other.csv is not a CSV of grade.py's (its header has other columns); "
                               "allowed: another --csv path, or a new file (one CSV per exercise)."), done.value.code
    assert capsys.readouterr().out == "", "refused before any grading"


def test_a_csv_a_spreadsheet_saved_again_is_read(tmp_path, monkeypatch, capsys):
    """A review: the grades CSV saved again by a spreadsheet as "CSV UTF-8" (a BOM first) was "not a CSV of
    grade.py's", and one saved in another encoding ended in a UnicodeDecodeError traceback."""
    grade = _stubbed(monkeypatch)
    _write(solved("idle_memory_tax"), tmp_path / "ada.ipynb")
    monkeypatch.chdir(tmp_path)
    assert grade.main([str(GIVEN), "ada.ipynb", "--csv", "tax.csv"]) == 0
    text = (tmp_path / "tax.csv").read_text(encoding="utf-8")
    (tmp_path / "tax.csv").write_text("\ufeff" + text, encoding="utf-8")
    assert grade.main([str(GIVEN), "ada.ipynb", "--csv", "tax.csv"]) == 0
    assert len((tmp_path / "tax.csv").read_text(encoding="utf-8-sig").splitlines()) == 3, "a row appended"
    (tmp_path / "latin.csv").write_bytes(text.replace("ada", "Zoë").encode("cp1252"))
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        grade.main([str(GIVEN), "ada.ipynb", "--csv", "latin.csv"])
    assert done.value.code == ("error: --csv latin.csv is not UTF-8 text (saved by a spreadsheet in another "
                               "encoding?); allowed: the CSV saved as UTF-8, another --csv path, or a new file."), \
        done.value.code


@pytest.mark.parametrize("text, said", [
    ("", "is empty (0 bytes: nothing was saved)"),
    ('{"cells": [{"cell_type": "code", "source": "x = 1"', "is cut off: its JSON stops at line 1 (saved while "
                                                          "being written, or cut short on upload)"),
])
def test_an_empty_or_cut_off_notebook_is_told_so(tmp_path, monkeypatch, capsys, text, said):
    """An empty file and one saved mid-edit were both told "cannot be read as a notebook (NotJSONError)"."""
    (tmp_path / "ada.ipynb").write_text(text)
    monkeypatch.chdir(tmp_path)
    assert grade_script().main([str(GIVEN), "ada.ipynb"]) == 1
    assert capsys.readouterr().err == f"error: ada.ipynb {said}; allowed: an .ipynb file of the exercises.\n"


@pytest.mark.parametrize("stop, said", [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "stopped by SIGTERM")])
def test_ctrl_c_writes_no_row_for_the_student_being_graded_and_shuts_its_kernel_down(tmp_path, stop, said):
    """Ctrl-C while a student's cell ran: nbclient took SIGINT for itself and shut the kernel down, so the run printed
    nbclient's traceback and no summary, or recorded "killed its kernel" (0 for the checks left) against the student
    and went on to the next. SIGTERM (a batch system's stop, ``kill``) ended the run with no summary and no sentence."""
    ada = _write(solved("idle_memory_tax"), tmp_path / "ada.ipynb")
    running = tmp_path / "running"                     # the slow cell's kernel writes its pid here as it starts
    nb = solved("idle_memory_tax")
    nb.cells.insert(1, nbformat.v4.new_code_cell(
        f"import os, time\nopen({str(running)!r}, 'w').write(str(os.getpid()))\ntime.sleep(600)"))
    slow, cyd = (_write(nb, tmp_path / "slow.ipynb"), _write(solved("idle_memory_tax"), tmp_path / "cyd.ipynb"))
    with subprocess.Popen([sys.executable, str(GRADE), str(GIVEN), ada, slow, cyd, "--csv", "int.csv"], cwd=tmp_path,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          # (SIGINT handled as a terminal's Ctrl-C finds it: pytest started in the background of a
                          # script has it ignored, and so would grade.py)
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as proc:
        for _ in range(6000):                          # (up to 10 minutes, for a loaded machine)
            if running.exists() and running.read_text() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + stop, (out, err)
    again = shlex.join(["python", str(GRADE), str(GIVEN), slow, cyd, "--csv", "int.csv"])
    assert err == f"{said} while grading {slow}; no row written for it; grade it and those after it again: " \
                  f"{again}\n", err
    assert out.split("== summary")[1].split("\n")[:4] == [": 1 of 3 students; 1 graded", "student  points  why",
                                                          "ada       4 / 4", ""], out
    assert _csv_students(tmp_path / "int.csv") == ["ada"]
    kernel = int(running.read_text())
    for _ in range(100):                               # (the kernel is shut down before grade.py exits)
        try:
            os.kill(kernel, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the kernel {kernel} still runs")
    assert "Ctrl-C" in GUIDE and "SIGTERM" in GUIDE and "no row is written for the student being graded" in GUIDE


def test_a_stop_as_a_students_row_is_written_names_the_next_student_as_the_one_without_a_row(tmp_path, monkeypatch,
                                                                                           capsys):
    """Ctrl-C after a student's CSV row was written and before its line of the summary was added: the sentence named
    that student, whose row was written, as the one without a row, and the command graded it again (a second row)."""
    grade = grade_script()
    given = nbformat.read(GIVEN, as_version=4)
    monkeypatch.setattr(grade, "grade_one", lambda handed_out, given_, student, timeout, posed: (
        [(g, points, points, "correct") for g, points in grade._graded(given)], []))
    write = grade._write_row

    def stopped_once_written(path, *args):
        write(path, *args)
        os.kill(os.getpid(), signal.SIGINT)         # (Python runs the handler at once, before the summary's line)
    monkeypatch.setattr(grade, "_write_row", stopped_once_written)
    monkeypatch.chdir(tmp_path)
    for name in ("ada.ipynb", "bob.ipynb"):
        (tmp_path / name).touch()                   # (their grading is stubbed: they need only exist)
    was = signal.signal(signal.SIGINT, signal.default_int_handler)     # (as a terminal's Ctrl-C finds it)
    try:
        status = grade.main([str(GIVEN), "ada.ipynb", "bob.ipynb", "--csv", "tax.csv"])
        left = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, was)
    assert status == 130 and _csv_students(tmp_path / "tax.csv") == ["ada"]
    assert capsys.readouterr().err.startswith("interrupted while grading bob.ipynb; no row written for it; grade it "
                                              "again: python ")
    assert left is signal.default_int_handler, "main() leaves the handlers as it found them"


def test_main_runs_in_a_thread_other_than_the_main_one(tmp_path, monkeypatch, capsys):
    """main() called from a program's worker thread stopped at once with "signal only works in main thread" (it set
    its Ctrl-C and SIGTERM handlers, which only the main thread may); there no signal reaches it, and it grades."""
    import threading
    grade = grade_script()
    monkeypatch.chdir(tmp_path)
    got = {}
    (tmp_path / "hal.ipynb").write_text("")
    worker = threading.Thread(target=lambda: got.update(status=grade.main([str(GIVEN), "hal.ipynb"])))
    worker.start()
    worker.join()
    assert got == {"status": 1} and "error: hal.ipynb is empty" in capsys.readouterr().err


def test_a_students_folder_is_graded_on_the_one_notebook_in_it(tmp_path):
    """``grade.py HANDED_OUT submitted/*/``: a glob of the notebooks (``submitted/*/tax/*.ipynb``) skipped an empty
    folder without a word; a folder is now a student, named after it, and refused when it holds no notebook or
    several."""
    nb = solved("idle_memory_tax")
    _write(nb, tmp_path / "submitted" / "ada" / "tax" / "idle_memory_tax.ipynb")
    _write(nb, tmp_path / "submitted" / "ada" / "tax" / ".ipynb_checkpoints" / "idle_memory_tax-checkpoint.ipynb")
    (tmp_path / "submitted" / "ned").mkdir()
    for name in ("idle_memory_tax.ipynb", "idle_memory_tax (1).ipynb"):
        _write(nb, tmp_path / "submitted" / "oli" / name)
    done = _run(tmp_path, "submitted/ada/", "submitted/ned/", "submitted/oli/", "--csv", "tax.csv")
    assert done.returncode == 1
    assert done.stderr == (
        "error: submitted/ned is a folder with no notebook; allowed: a student's folder holding one .ipynb "
        "file, or the .ipynb file to grade.\n"
        "error: submitted/oli is a folder with 2 notebooks (idle_memory_tax (1).ipynb, idle_memory_tax.ipynb); "
        "allowed: a student's folder holding one .ipynb file (move the others out of it and give the folder again, "
        "so that its row is oli's).\n"), done.stderr
    assert _csv_students(tmp_path / "tax.csv") == ["ada", "ned", "oli"]
    assert "== submitted/ada\n4 / 4 points\n" in done.stdout
    assert "a folder per student" in GUIDE and "grade.py exercises/release/idle_memory_tax.ipynb submitted/*/" in GUIDE


def test_a_renamed_check_cell_is_named_so_and_a_cell_that_stopped_the_run_by_its_place_in_the_students_notebook(
        tmp_path):
    """A check cell whose nbgrader grade_id the student changed was called deleted (and ran twice: the handed-out one
    was put back beside it); a cell that stopped the run was numbered in the notebook as run, where each locked cell
    put back shifts the student's cells (``cell 8`` of a notebook whose seventh cell it was)."""
    nb = solved("idle_memory_tax")
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    nb.cells[ids.index("rho-check")].metadata["nbgrader"]["grade_id"] = "my-rho-check"
    nb.cells.insert(ids.index("rho-check") + 1, nbformat.v4.new_code_cell("import os\nos._exit(1)   # my scratch cell"))
    del nb.cells[ids.index("rho-problem")]          # (put back as it is graded)
    place = next(n for n, c in enumerate(nb.cells, 1) if "os._exit" in c.source)
    ada = _write(nb, tmp_path / "ada.ipynb")
    done = _run(tmp_path, ada)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n") == [
        f"flagged for review: cell {place} reads the private attribute 'os._exit'",     # (numbered so too)
        f"nbgrader grade_id changed in {ada}, graded as the handed-out cell: 'my-rho-check' is rho-check",
        f"put back as handed out: rho-problem (deleted from {ada})",
        f"stopped: cell {place} killed its kernel; the check cells after it score 0",
        "2 / 4 points", ""], done.stdout
    assert place == 7 and "by its place in the student's notebook" in GUIDE


def test_a_stop_as_nbclient_shuts_a_students_kernel_down_shuts_it_down_and_prints_no_traceback(tmp_path):
    """Ctrl-C or SIGTERM while nbclient shut down the kernel of a student whose cells had all run (a tenth of a second
    a student: three stops in six landed there in a trial): the run ended with the right sentence, then Python printed
    "Exception ignored in atexit callback" and nbclient's AssertionError (the cancelled shutdown left its exit hook
    registered and dropped its kernel manager), and a kernel not yet asked to stop was left to notice grade.py's
    exit."""
    running = tmp_path / "running"                     # the kernel writes its pid here
    nb = solved("idle_memory_tax")
    nb.cells.insert(1, nbformat.v4.new_code_cell(f"import os\nopen({str(running)!r}, 'w').write(str(os.getpid()))"))
    ada = _write(nb, tmp_path / "ada.ipynb")
    script = tmp_path / "stopped_in_shutdown.py"       # nbclient's shutdown of the kernel, stopped before it begins
    script.write_text(
        "import asyncio, os, signal, sys, time\n"
        "from jupyter_client import AsyncKernelManager\n"
        "shutdown = AsyncKernelManager.shutdown_kernel\n"
        "async def stopped(self, now=False, restart=False):\n"
        "    if not now:                      # nbclient's own, as the student's cells are done\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "        await asyncio.sleep(60)\n"
        "    await shutdown(self, now=now, restart=restart)\n"
        "AsyncKernelManager.shutdown_kernel = stopped\n"
        f"sys.path.insert(0, {str(GRADE.parent)!r})\n"
        "import grade\n"
        "status = grade.main(sys.argv[1:])\n"
        f"kernel = int(open({str(running)!r}).read())\n"
        "for _ in range(20):\n"
        "    try:\n"
        "        os.kill(kernel, 0)\n"
        "    except ProcessLookupError:\n"
        "        break\n"
        "    time.sleep(0.1)\n"
        "else:\n"
        "    print('the kernel still runs')\n"
        "sys.exit(status)\n")
    done = subprocess.run([sys.executable, str(script), str(GIVEN), ada, "--csv", "tax.csv"], capture_output=True,
                          text=True, cwd=tmp_path, timeout=600,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert done.returncode == 130, (done.stdout, done.stderr)
    assert done.stderr.startswith(f"interrupted while grading {ada}; no row written for it"), done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr
    assert "the kernel still runs" not in done.stdout, "grade.py shuts the kernel down before it exits"


def test_the_summary_names_no_notebooks_path_its_student_column_names(tmp_path):
    """A note of a graded student repeated the notebook's path on its line of the summary, beside the student column
    that names it, and the cut to 100 characters took what it said: "nbgrader grade_id changed in
    submitted/eve/idle_memory_tax.ipynb, graded as the handed-out cell: 'm…" (session 69's class)."""
    nb = solved("idle_memory_tax")
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    nb.cells[ids.index("rho-check")].metadata["nbgrader"]["grade_id"] = "my-check"
    del nb.cells[ids.index("rho-problem")]          # (put back as it is graded)
    _write(nb, tmp_path / "submitted" / "eve" / "idle_memory_tax.ipynb")
    _write(solved("idle_memory_tax"), tmp_path / "submitted" / "ada" / "idle_memory_tax.ipynb")
    done = _run(tmp_path, "submitted/eve/", "submitted/ada/", "--csv", "tax.csv")
    assert done.returncode == 0, done.stderr
    summary = done.stdout.split("== summary")[1].split("\n")
    assert summary[2] == ("eve       4 / 4  nbgrader grade_id changed, graded as the handed-out cell: 'my-check' is "
                          "rho-check; put back as handed out: rho-problem (deleted)"), summary
    assert "put back as handed out: rho-problem (deleted from submitted/eve/idle_memory_tax.ipynb)" in done.stdout
    assert "deleted from submitted/eve/idle_memory_tax.ipynb" in (tmp_path / "tax.csv").read_text()
    assert "a note's or a refused file's reason without the notebook's path" in GUIDE


def test_a_notes_own_words_stay_in_the_summary_whatever_the_notebooks_path(tmp_path, monkeypatch, capsys):
    """The summary left the notebook's path out of the notes by taking `` in PATH`` and `` from PATH`` out of their
    text: for a student's file named ``a``, a flag's "code named in a string" lost its " in a" ("code named string").
    Notes now carry the path apart from their words. (Each notebook's run in its kernel is stubbed: the notes are
    grade.py's.)"""
    grade = grade_script()
    monkeypatch.setattr(grade, "grade", lambda given, work, timeout, posed: (
        [], [(g, points, points, "correct") for g, points in grade._graded(given)], [], ""))
    given = nbformat.read(GIVEN, as_version=4)
    nb = answered(given, {"rho-answer": 'exec("x = 1")'})
    nb.cells[[c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb.cells].index("rho-check")].source \
        += "\n# mine"
    _write(nb, tmp_path / "a")
    _write(solved("idle_memory_tax"), tmp_path / "ada.ipynb")
    monkeypatch.chdir(tmp_path)
    assert grade.main([str(GIVEN), "a", "ada.ipynb", "--csv", "tax.csv"]) == 0
    out = capsys.readouterr().out
    flag = "flagged for review: rho-answer imports or runs code named in a string with 'exec(' (an import built from " \
           "pieces)"
    assert f"== a\n{flag}\nput back as handed out: rho-check (edited in a)\n" in out, out
    line = next(line for line in out.split("\n") if line.startswith("a "))
    assert line.endswith(f"{first_line(flag, 100)}; put back as handed out: rho-check (edited)"), line
    row = next(row for row in _csv_rows(tmp_path / "tax.csv") if row["student"] == "a")
    assert row["notes"].endswith("; put back as handed out: rho-check (edited in a)"), row


def test_each_student_is_asked_once_whether_it_is_a_folder(tmp_path, monkeypatch):
    """Naming the students and finding each one's notebook both asked the file system whether a student is a folder:
    two looks a student, where one does."""
    grade = _stubbed(monkeypatch)
    _write(solved("idle_memory_tax"), tmp_path / "submitted" / "ada" / "idle_memory_tax.ipynb")
    _write(solved("idle_memory_tax"), tmp_path / "bob.ipynb")
    students = [Path("submitted/ada"), Path("bob.ipynb")]
    looked, is_dir = [], Path.is_dir

    def asked(path: Path) -> bool:
        if sys._getframe(1).f_code.co_filename == grade.__file__:         # (not pathlib's own, as it globs)
            looked.append(path)
        return is_dir(path)
    monkeypatch.setattr(Path, "is_dir", asked)
    monkeypatch.chdir(tmp_path)
    assert grade.main([str(GIVEN), *map(str, students)]) == 0
    assert [p for p in looked if p in students] == students, looked


def _stubbed(monkeypatch):
    """exercises/grade.py with each notebook's grading stubbed (full points): what is checked happens before it."""
    grade = grade_script()
    monkeypatch.setattr(grade, "grade_one", lambda handed_out, given, student, timeout, posed: (
        [(g, points, points, "correct") for g, points in grade._graded(given)], []))
    return grade


def test_a_students_notebook_given_as_the_handed_out_one_is_refused(tmp_path, monkeypatch, capsys):
    """``grade.py submitted/*.ipynb`` (the handout forgotten) took ada's notebook as the handout and graded the others
    against it: ada had no grade, and nothing said so; the two paths swapped graded the handout as a student, 0 / 4
    (session 71's class). A copy of the release elsewhere (a handout per student) is still taken."""
    grade = _stubbed(monkeypatch)
    given = nbformat.read(GIVEN, as_version=4)
    _write(answered(given, {"rho-answer": "rhos, victim = [1.0], 'db'"}), tmp_path / "ada.ipynb")
    _write(given, tmp_path / "bob.ipynb")
    _write(given, tmp_path / "handouts" / "ada" / "idle_memory_tax.ipynb")
    monkeypatch.chdir(tmp_path)
    for args in (["ada.ipynb", "bob.ipynb"], ["ada.ipynb", str(GIVEN)]):
        with pytest.raises(SystemExit) as done:
            grade.main([*args, "--csv", "tax.csv"])
        assert done.value.code == (
            "error: the handed-out notebook ada.ipynb has answers filled in (rho-answer, unlike the release's; a "
            f"student's notebook given first?); allowed: the notebook as handed out, {GIVEN}."), done.value.code
        assert not (tmp_path / "tax.csv").exists()
    assert grade.main(["handouts/ada/idle_memory_tax.ipynb", "bob.ipynb"]) == 0
    assert "answers filled in" in GUIDE


def test_a_handout_of_an_exercise_not_in_the_release_folder_needs_nbgraders_starter_code(tmp_path, monkeypatch):
    """An exercise of the instructor's own (no copy in exercises/release/) is compared with nbgrader's starter code,
    unless it is given from its release folder, whose starter code nbgrader may have been set to write otherwise."""
    grade = _stubbed(monkeypatch)
    own = nbformat.read(GIVEN, as_version=4)
    for cell in own.cells:                          # (grade ids of no exercise of the release)
        if cell.metadata.get("nbgrader", {}).get("grade_id"):
            cell.metadata["nbgrader"]["grade_id"] = "own-" + cell.metadata["nbgrader"]["grade_id"]
    _write(own, tmp_path / "release" / "lab" / "own.ipynb")
    _write(own, tmp_path / "handout.ipynb")
    filled = answered(own, {"own-targets-answer": "targets_mb, goal_tax_rate = [1, 2], 0.5"})
    _write(filled, tmp_path / "ada.ipynb")
    _write(filled, tmp_path / "release" / "stub" / "own.ipynb")     # (as if its starter code were another)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as done:
        grade.main(["ada.ipynb", "handout.ipynb"])
    assert done.value.code == (
        "error: the handed-out notebook ada.ipynb has answers filled in (own-targets-answer, with no `raise "
        "NotImplementedError()`, the starter code nbgrader puts there; a student's notebook given first?); allowed: "
        "the notebook as handed out, from its release folder (exercises/release/, nbgrader's release/<assignment>/).")
    for handout in ("handout.ipynb", "release/lab/own.ipynb", "release/stub/own.ipynb"):
        assert grade.main([handout, "ada.ipynb"]) == 0, handout


def test_another_exercises_handout_is_refused_once_naming_the_students_exercise(tmp_path, monkeypatch, capsys):
    """With ballooning's handout given for a class that did idle_memory_tax, each student was refused in a sentence of
    520 characters, and the CSV got a refused row each: the handed-out path is the likely mistake, said once."""
    grade = _stubbed(monkeypatch)
    given = nbformat.read(GIVEN, as_version=4)
    for name in ("ada", "bob"):
        _write(given, tmp_path / "submitted" / name / "idle_memory_tax.ipynb")
    (tmp_path / "submitted" / "cyd").mkdir()                        # (refused as it is graded: not counted)
    monkeypatch.chdir(tmp_path)
    balloon = GIVEN.with_name("ballooning.ipynb")
    with pytest.raises(SystemExit) as done:
        grade.main([str(balloon), "submitted/ada/", "submitted/bob/", "submitted/cyd/", "--csv", "tax.csv"])
    assert done.value.code == (
        f"error: the handed-out notebook {balloon} is not the students' exercise: none of the 2 students' notebooks "
        "has its answer cells (balloon-answer), and each has those of idle_memory_tax.ipynb; allowed: "
        f"{GIVEN}."), done.value.code
    assert not (tmp_path / "tax.csv").exists() and capsys.readouterr() == ("", "")
    assert grade.main([str(balloon), "submitted/ada/"]) == 0, "one student alone is graded (refused as a student, "\
        "unstubbed: that student's may be the wrong notebook)"
    assert "is not the students' exercise" not in capsys.readouterr().err
    assert "is not the students' exercise" in GUIDE


def test_the_summary_gives_each_wrong_answers_reason_not_the_checkers_lead_in(capsys):
    """Cut to 50 characters, each answer's reason kept "`targets_mb` is not right (each within ±1 MB; fir…": the
    lead-in, and none of the reason ("the split without the tax"; session 71's class)."""
    grade = grade_script()
    q = problems.TaxTargets(seed=0)
    said = fails(q, {"targets_mb": [q.available_mb / 2] * 2, "goal_tax_rate": 0.5})
    error = nbformat.v4.new_output("error", ename="CheckFailed", evalue=said, traceback=[])
    message = grade._message(nbformat.v4.new_code_cell(outputs=[error], execution_count=7), {"status": "error"})
    grade.show_summary([("bob", "graded", [("rho-check", 2, 2, "correct"), ("targets-check", 0, 2, message)], [])])
    why = capsys.readouterr().out.split("\n")[2].split("2 / 4  ")[1]
    assert why.startswith("targets-check: 2 wrong: `targets_mb`: that is the split without the tax (τ = 0)"), why
    assert "; `goal_tax_rate`: that is the tax rate in effect now" in why and "is not right" not in why, why


def test_the_advice_for_a_folder_with_two_notebooks_leads_to_a_row_of_the_folders_name(tmp_path, monkeypatch,
                                                                                        capsys):
    """A student's folder with two notebooks was refused with "allowed: …, or the .ipynb file to grade"; the file
    given so got a row named by its path (it holds the handout's name), and the folder's row stayed "refused", so "the
    latest graded_at of a student is the grade" missed her (session 71's class). The advice now is to move the other
    notebook out and give the folder again. The summary counts students: a folder may hold no notebook."""
    grade = _stubbed(monkeypatch)
    nb = solved("idle_memory_tax")
    for name in ("idle_memory_tax.ipynb", "idle_memory_tax (1).ipynb"):
        _write(nb, tmp_path / "byfolder" / "eve" / name)
    (tmp_path / "byfolder" / "dee").mkdir()
    monkeypatch.chdir(tmp_path)
    assert grade.main([str(GIVEN), "byfolder/dee/", "byfolder/eve/", "--csv", "tax.csv"]) == 1
    out, err = capsys.readouterr()
    assert err.split("\n")[1] == (
        "error: byfolder/eve is a folder with 2 notebooks (idle_memory_tax (1).ipynb, idle_memory_tax.ipynb); "
        "allowed: a student's folder holding one .ipynb file (move the others out of it and give the folder again, so "
        "that its row is eve's)."), err
    assert "== summary: 2 students; 2 refused" in out, out
    (tmp_path / "byfolder" / "eve" / "idle_memory_tax (1).ipynb").rename(tmp_path / "eve-other.ipynb")
    assert grade.main([str(GIVEN), "byfolder/eve/", "--csv", "tax.csv"]) == 0
    rows = _csv_rows(tmp_path / "tax.csv")
    assert [(r["student"], r["points"]) for r in rows] == [("dee", ""), ("eve", ""), ("eve", "4")], rows
    assert "move the others out of the folder and give the folder again" in GUIDE and "== summary: 5 students" in GUIDE
