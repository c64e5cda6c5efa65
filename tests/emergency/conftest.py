"""Make the helper modules of this folder importable by the other test modules."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
