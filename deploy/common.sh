# shellcheck shell=bash
# What deploy/kiosk/setup.sh and deploy/central/setup.sh share; sourced by both. The functions
# read the caller's $root, $files_only and $source_path (its --root, --files-only, --source).
# shellcheck disable=SC2154

deploy_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

log() { printf 'setup.sh: %s\n' "$*"; }
run() { if [[ $files_only -eq 0 ]]; then "$@"; fi; }

# need_root: stop unless running as root (only writing files needs no root).
need_root() {
    if [[ $files_only -eq 0 && $EUID -ne 0 ]]; then
        echo "setup.sh: run as root (sudo)" >&2
        exit 1
    fi
}

# put SRC DEST MODE: copy a file only when it differs, so re-runs change nothing.
put() {
    local src="$1" dest="$root$2" mode="$3"
    install -d -m 0755 "$(dirname "$dest")"
    if ! cmp -s "$src" "$dest"; then
        install -m "$mode" "$src" "$dest"
        log "wrote $2"
    fi
    chmod "$mode" "$dest"
}

# put_text DEST MODE (content on stdin).
put_text() {
    local tmp
    tmp="$(mktemp)"
    cat >"$tmp"
    put "$tmp" "$1" "$2"
    rm -f "$tmp"
}

# system_user NAME HOME [USERADD-OPTION...]: a system user with its own group and no login.
system_user() {
    local name="$1" home="$2"
    shift 2
    getent group "$name" >/dev/null || groupadd --system "$name"
    id "$name" >/dev/null 2>&1 || useradd --system --gid "$name" --home-dir "$home" \
        --no-create-home --shell /usr/sbin/nologin "$@" "$name"
}

# install_urne DOC...: Urne from $source_path in its venv under /opt/urne, and these pages of
# docs/ beside it (when the checkout has them).
install_urne() {
    if [[ $files_only -eq 0 ]]; then
        [[ -x /opt/urne/venv/bin/python ]] || python3 -m venv /opt/urne/venv
        /opt/urne/venv/bin/pip install --quiet --upgrade "$source_path"
    fi
    install -d -m 0755 "$root/opt/urne/share/docs"
    local doc
    for doc in "$@"; do
        if [[ -f "$deploy_dir/../docs/$doc" ]]; then
            put "$deploy_dir/../docs/$doc" "/opt/urne/share/docs/$doc" 0644
        fi
    done
}
