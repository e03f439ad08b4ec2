"""The host's config folder: $GLASSES_CONFIG_DIR, or ~/.config/glasses. What lives there is
private: the bond keys (bonds.json: LTKs, IRKs), the host's identity (host.json), the
OTA signing key, the control socket. Files are 0600 in a 0700 folder; a folder that
exists with wider rights is tightened if it is ours, refused (PrivateDirError) if not.
"""
import os
import stat

from host_tools.errors import PrivateDirError

DEFAULT_CONFIG_DIR = "~/.config/glasses"


def config_dir(path=None):
    """The folder's path ($GLASSES_CONFIG_DIR, or ~/.config/glasses); not created."""
    return os.path.expanduser(path or os.environ.get("GLASSES_CONFIG_DIR")
                              or DEFAULT_CONFIG_DIR)


def private_dir(path):
    """Make sure `path` exists and only this user can enter it. Returns path."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    st = os.stat(path)
    if st.st_uid != os.getuid():
        raise PrivateDirError("%s belongs to another user (uid %d): refusing to keep keys "
                              "there; set GLASSES_CONFIG_DIR to a folder of yours"
                              % (path, st.st_uid))
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, 0o700)
    return path


def private_file(path):
    """Tighten an existing key file to 0600 (created elsewhere with the umask's rights)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, 0o600)


def write_private(path, data):
    """Write a key file atomically, 0600 from its first byte."""
    private_dir(os.path.dirname(os.path.abspath(path)))
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(tmp, 0o600)  # an old .tmp may have had other rights
    os.replace(tmp, path)


DEFAULT_GALLERY_DIR = "~/Pictures/glasses"


def gallery_dir(path=None):
    """Where the glasses' photos are saved on the phone: $GLASSES_GALLERY_DIR, or
    ~/Pictures/glasses (docs/camera.md); not created."""
    return os.path.expanduser(path or os.environ.get("GLASSES_GALLERY_DIR")
                              or DEFAULT_GALLERY_DIR)
