#!/usr/bin/env bash
# Install Urne's central server on Debian 12: a dedicated user, Urne in a venv under /opt/urne,
# gunicorn under systemd behind nginx (TLS), hourly online backups, log rotation, and the
# central's secrets moved out of its data folder into root-only systemd credentials.
# Safe to run again.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: sudo deploy/central/setup.sh --server-name NAME [options]

  --server-name NAME   the central's public DNS name (e.g. budget.le64.fr)
  --source PATH        what pip installs (default: the Urne checkout holding this script)
  --root DIR           lay files under DIR instead of / (for tests; implies --files-only)
  --files-only         only write files: no apt, user, pip, nginx reload or systemctl
  --credentials-dir DIR
                       where systemd hands the credentials to the service
                       (default: /run/credentials/urne-central.service)
  -h, --help           this help

Run `urne central init` first (docs/deploy.md); running this again afterwards moves the
secrets it wrote into /etc/urne/central.

Example: sudo deploy/central/setup.sh --server-name budget.le64.fr
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# log, run, need_root, put, put_text, system_user, install_urne:
# shellcheck source=SCRIPTDIR/../common.sh
source "$here/../common.sh"
source_path="$(cd "$here/../.." && pwd)"
root=""
files_only=0
server_name=""
credentials=/run/credentials/urne-central.service

while [[ $# -gt 0 ]]; do
    case "$1" in
        --server-name) server_name="$2"; shift 2 ;;
        --source) source_path="$2"; shift 2 ;;
        --root) root="${2%/}"; files_only=1; shift 2 ;;
        --files-only) files_only=1; shift ;;
        --credentials-dir) credentials="${2%/}"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "setup.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

if [[ ! "$server_name" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]]; then
    echo "setup.sh: --server-name expects a DNS name such as budget.le64.fr, got '$server_name'" >&2
    exit 2
fi
need_root

home=/var/lib/urne-central
secrets=/etc/urne/central

# 1. Packages and the service user.
if [[ $files_only -eq 0 ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3-venv python3-pip nginx sqlite3 logrotate certbot
    system_user urne-central "$home"
fi

# 2. Folders: data and backups private to the service; secrets private to root.
install -d -m 0755 "$root/opt/urne" "$root/usr/local/lib/urne" "$root/etc/urne" "$root/var/www/letsencrypt"
install -d -m 0700 "$root$home" "$root$secrets" "$root/var/backups/urne-central"
run chown urne-central:urne-central "$home" /var/backups/urne-central

# 3. Urne itself, in its own venv, and the deployment guide beside it.
install_urne deploy.md

# 4. Units, backup script, nginx site, log rotation.
put "$here/bin/urne-central-backup" /usr/local/lib/urne/urne-central-backup 0755
put "$here/config/gunicorn-central.conf.py" /usr/local/lib/urne/gunicorn-central.conf.py 0644
for unit in urne-central.service urne-central-backup.service urne-central-backup.timer; do
    put "$here/systemd/$unit" "/etc/systemd/system/$unit" 0644
done
sed -e "s/@SERVER_NAME@/$server_name/g" "$here/config/nginx-urne-central.conf" \
    | put_text /etc/nginx/sites-available/urne-central 0644
install -d -m 0755 "$root/etc/nginx/sites-enabled"
# nginx refuses a site whose certificate is missing: enable it once certbot has made one.
if [[ -f "$root/etc/letsencrypt/live/$server_name/fullchain.pem" ]]; then
    if [[ ! -L "$root/etc/nginx/sites-enabled/urne-central" ]]; then
        ln -sfn /etc/nginx/sites-available/urne-central "$root/etc/nginx/sites-enabled/urne-central"
        log "enabled the nginx site"
    fi
    site_ready=1
else
    log "no certificate yet for $server_name: nginx site not enabled (docs/deploy.md, 'TLS')"
    site_ready=0
fi
put "$here/config/logrotate-urne-central" /etc/logrotate.d/urne-central 0644

# 5. Secrets: whatever `urne central init` wrote into the data folder moves to root-only files
#    (the unit's LoadCredential= sources) and is replaced by a symlink into the directory
#    where systemd hands them, read-only, to the running service.
move_secret() {
    local name="$1" credential="$2"
    local in_home="$root$home/$name" stored="$root$secrets/$credential"
    if [[ -f "$in_home" && ! -L "$in_home" ]]; then
        install -m 0600 "$in_home" "$stored"
        rm -f "$in_home"
        log "moved $home/$name to $secrets/$credential"
    fi
    if [[ -f "$stored" ]]; then
        chmod 0600 "$stored"
        install -d -m 0700 "$(dirname "$in_home")"
        if [[ "$(readlink "$in_home" || true)" != "$credentials/$credential" ]]; then
            ln -sfn "$credentials/$credential" "$in_home"
            log "linked $home/$name to the credential $credential"
        fi
    fi
}
move_secret keys/central.key central.key
move_secret keys/signing.key signing.key
move_secret secret_key secret_key
move_secret organiser.password organiser.password
run chown -R urne-central:urne-central "$home"

# 6. Start.
if [[ $files_only -eq 0 ]]; then
    systemctl daemon-reload
    if [[ $site_ready -eq 1 ]]; then
        nginx -t
        systemctl reload nginx
    fi
    systemctl enable urne-central-backup.timer
    if [[ -f "$home/role" ]]; then
        systemctl enable --now urne-central.service
        systemctl start urne-central-backup.timer
    else
        log "not started: run \`urne central init\` (docs/deploy.md), then this script again"
    fi
fi

log "done."
