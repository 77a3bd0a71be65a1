"""Finding removable drives (and a configured folder) the agent can export to."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# Where desktop automounters (udisks: /media/USER/LABEL, /run/media/USER/LABEL), usbmount
# (/media/usb0) and hand mounts (/mnt/X) put removable drives.
DEFAULT_PATTERNS = ("/media/*", "/media/*/*", "/run/media/*/*", "/mnt/*")


@dataclass(frozen=True)
class Drive:
    """One place an export can go."""

    path: Path
    label: str
    free_bytes: int
    writable: bool
    configured: bool = False


def _unescape(field):
    # /proc/mounts writes space, tab, newline and backslash as octal escapes.
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mount_points(mounts="/proc/mounts"):
    """The mount points listed in a mounts table (the kernel's by default)."""
    try:
        text = Path(mounts).read_text()
    except OSError:
        return []
    points = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 2:
            points.append(_unescape(fields[1]))
    return points


def describe(path, *, configured=False):
    """A Drive for a folder: free space and whether this process can write there."""
    path = Path(path)
    try:
        free = shutil.disk_usage(path).free
    except OSError:
        free = 0
    writable = path.is_dir() and os.access(path, os.W_OK | os.X_OK)
    return Drive(path, path.name or str(path), free, writable, configured)


def removable_drives(*, configured=None, patterns=DEFAULT_PATTERNS, mounts="/proc/mounts"):
    """Mounted removable drives (matched by pattern), then the configured folder if any."""
    drives = []
    seen = set()
    for point in mount_points(mounts):
        if any(PurePosixPath(point).match(pattern) for pattern in patterns) and point not in seen:
            seen.add(point)
            drives.append(describe(point))
    if configured:
        drives.append(describe(configured, configured=True))
    return drives
