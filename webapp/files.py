"""Files that hold personal data or secrets (the SQLite databases, the queue, the secret key, the
rate-limit counters) are readable by their owner only, whatever the umask of whoever starts us."""
import os
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path) -> Path:
    """Create the folder for owner-only files (0700) if it is missing; an existing one is left as is."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    return path


def private_file(path: Path | str) -> Path:
    """Make sure `path` exists and is 0600 before SQLite opens it (SQLite gives its -wal and -shm files
    the permissions of the database file)."""
    path = Path(path)
    if str(path) in ("", ":memory:"):
        return path
    private_dir(path.parent)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)
    try:
        if os.fstat(fd).st_uid == os.getuid():
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.exists() and companion.stat().st_uid == os.getuid():
            companion.chmod(PRIVATE_FILE)
    return path
