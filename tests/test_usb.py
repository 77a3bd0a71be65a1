"""Finding removable drives from a mounts table, plus the configured folder."""

from kiosk.usb import describe, mount_points, removable_drives


def test_mounts_under_media_and_mnt_are_listed_with_their_space(tmp_path):
    media = tmp_path / "media" / "agent" / "CLE USB"
    media.mkdir(parents=True)
    mounts = tmp_path / "mounts"
    escaped = str(media).replace(" ", "\\040")
    mounts.write_text(
        f"/dev/sda1 / ext4 rw 0 0\n/dev/sdb1 {escaped} vfat rw 0 0\nproc /proc proc rw 0 0\n"
    )
    patterns = (f"{tmp_path}/media/*/*",)
    drives = removable_drives(patterns=patterns, mounts=mounts)
    assert [d.path for d in drives] == [media]
    assert drives[0].label == "CLE USB" and drives[0].writable and drives[0].free_bytes > 0


def test_configured_folder_comes_last_and_a_missing_one_is_not_writable(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("")
    drives = removable_drives(configured=tmp_path / "nope", mounts=mounts)
    assert len(drives) == 1 and drives[0].configured and not drives[0].writable


def test_read_only_folder_is_not_writable(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        import os

        assert describe(folder).writable is (os.geteuid() == 0)
    finally:
        folder.chmod(0o700)


def test_the_real_mounts_table_parses():
    assert "/" in mount_points()
