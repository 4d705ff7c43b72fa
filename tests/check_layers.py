#!/usr/bin/env python3
"""Every #include in src/ points down the floors of docs/architecture.md (or stays in its folder).

Folders on one floor (measure/ and plan/; bench/ and allreduce/) do not include each other. A new
folder must be given a floor here, so the picture in docs/architecture.md stays the code's.
"""
import pathlib
import re
import sys

FLOORS = {
    "core": 0, "kernels": 1, "comm": 2, "io": 3, "model": 4, "app": 5, "options": 6,
    "measure": 7, "plan": 7, "report": 8, "bench": 9, "allreduce": 9,
}
INCLUDE = re.compile(r'\s*#\s*include\s+"([A-Za-z_]+)/')


def main(src: pathlib.Path) -> int:
    problems = []
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".cpp", ".hpp", ".cu", ".cuh", ".h"):
            continue
        folder = path.relative_to(src).parts[0]
        if folder not in FLOORS:
            problems.append(f"{path}: folder {folder}/ has no floor in {__file__}")
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or m.group(1) == folder:
                continue
            target = m.group(1)
            if target not in FLOORS:
                problems.append(f"{path}:{number}: includes {target}/, which has no floor")
            elif FLOORS[target] >= FLOORS[folder]:
                problems.append(f"{path}:{number}: {folder}/ (floor {FLOORS[folder]}) includes "
                                f"{target}/ (floor {FLOORS[target]}): an include that runs back up")
    for p in problems:
        print(p)
    print(f"check_layers: {len(problems)} problem(s) in {src}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")))
