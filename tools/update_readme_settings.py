"""Rewrite the settings table in README.md from the Settings object (run after adding a setting)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
table = subprocess.run(
    [str(Path(sys.executable).parent / "assistant"), "settings", "--markdown"],
    capture_output=True,
    text=True,
    check=True,
).stdout
readme = ROOT / "README.md"
text = readme.read_text(encoding="utf-8")
start = text.index("| variable | default | meaning |")
end = text.index("\n\n## Development")
readme.write_text(text[:start] + table.rstrip() + text[end:], encoding="utf-8")
