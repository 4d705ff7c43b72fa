"""Makes the reference modules importable by the tests whatever pytest's import mode
(the default prepends this directory; --import-mode=importlib would not)."""
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
