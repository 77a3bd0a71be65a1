#!/usr/bin/env bash
# Install an Urne voting kiosk on Raspberry Pi OS (Debian Bookworm): a dedicated user, Urne in a
# venv under /opt/urne, its folder /var/lib/urne, the systemd units, the screen, the watchdog,
# the USB export mounts and, with --tablets, the stand's own Wi-Fi. Safe to run again.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: sudo deploy/kiosk/setup.sh [options]

  --source PATH        what pip installs (default: the Urne checkout holding this script)
  --tablets            serve the stand's own Wi-Fi (hostapd + dnsmasq) for paired tablets
  --ssid NAME          Wi-Fi name in tablet mode (default: urne-<hostname>)
  --wifi-passphrase-file FILE
                       WPA2 passphrase (8-63 characters) in tablet mode (default: a new
                       random one, kept in /etc/hostapd/urne.psk, mode 0600)
  --rtc ds3231         enable a DS3231 real-time clock on I2C
  --root DIR           lay files under DIR instead of / (for tests; implies --files-only)
  --files-only         only write files: no apt, user, pip or systemctl
  -h, --help           this help

Example: sudo deploy/kiosk/setup.sh --tablets --ssid budget-stand-12 --rtc ds3231
USAGE
}

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# log, run, need_root, put, put_text, system_user, install_urne:
# shellcheck source=SCRIPTDIR/../common.sh
source "$here/../common.sh"
source_path="$(cd "$here/../.." && pwd)"
root=""
files_only=0
tablets=0
ssid=""
passphrase_file=""
rtc=""

while [[ $# -gt 0 ]]; do
    case "$1" in
        --source) source_path="$2"; shift 2 ;;
        --tablets) tablets=1; shift ;;
        --ssid) ssid="$2"; shift 2 ;;
        --wifi-passphrase-file) passphrase_file="$2"; shift 2 ;;
        --rtc) rtc="$2"; shift 2 ;;
        --root) root="${2%/}"; files_only=1; shift 2 ;;
        --files-only) files_only=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "setup.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

if [[ -n "$rtc" && "$rtc" != "ds3231" ]]; then
    echo "setup.sh: --rtc expects ds3231, got '$rtc'" >&2
    exit 2
fi
need_root

# add_line FILE LINE: append a line to a boot file once.
add_line() {
    local file="$root$1" line="$2"
    [[ -f "$file" ]] || return 0
    if ! grep -qxF -- "$line" "$file"; then
        printf '%s\n' "$line" >>"$file"
        log "added '$line' to $1"
    fi
}

boot_dir=/boot/firmware
[[ -d "$root$boot_dir" ]] || boot_dir=/boot

# 1. Packages.
if [[ $files_only -eq 0 ]]; then
    if ! grep -q 'VERSION_CODENAME=bookworm' /etc/os-release; then
        log "warning: this is not Debian Bookworm; continuing"
    fi
    packages=(python3-venv python3-pip curl sqlite3 cage fonts-dejavu-core)
    if apt-cache show chromium >/dev/null 2>&1; then packages+=(chromium); else packages+=(chromium-browser); fi
    if [[ $tablets -eq 1 ]]; then packages+=(hostapd dnsmasq); fi
    if [[ -n "$rtc" ]]; then packages+=(i2c-tools); fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

# 2. Users: `urne` runs the server and owns the data; `urne-screen` only shows the browser.
run system_user urne /var/lib/urne
run system_user urne-screen /run/urne-screen --groups video,render,input

# 3. Folders: the data folder is private to `urne`; the export drives mount under /media/urne.
install -d -m 0755 "$root/opt/urne" "$root/etc/urne" "$root/usr/local/lib/urne" "$root/media/urne"
install -d -m 0700 "$root/var/lib/urne"
run chown urne:urne /var/lib/urne

# 4. Urne itself, in its own venv, and the guides beside it.
install_urne deploy.md agent-guide.md agent-guide.en.md

# 5. Helpers, units, udev rule, PAM service, watchdog, sysctl.
put "$here/bin/urne-screen" /usr/local/lib/urne/urne-screen 0755
put "$here/bin/urne-usb-mount" /usr/local/lib/urne/urne-usb-mount 0755
put_text /usr/local/bin/urne-kiosk 0755 <<'EOF'
#!/bin/sh
# Run an `urne` command as the kiosk's user on its folder, e.g. `sudo urne-kiosk kiosk status`.
exec runuser -u urne -- env URNE_HOME=/var/lib/urne /opt/urne/venv/bin/urne "$@"
EOF
for unit in urne-kiosk.service urne-screen.service urne-usb@.service urne-ap-address.service; do
    put "$here/systemd/$unit" "/etc/systemd/system/$unit" 0644
done
put "$here/config/90-urne-usb.rules" /etc/udev/rules.d/90-urne-usb.rules 0644
put "$here/config/urne-screen.pam" /etc/pam.d/urne-screen 0644
put "$here/config/watchdog.conf" /etc/systemd/system.conf.d/urne-watchdog.conf 0644
put "$here/config/sysctl-urne.conf" /etc/sysctl.d/90-urne.conf 0644

# 6. Server settings, shared by the server and the screen units.
if [[ $tablets -eq 1 ]]; then host=10.42.0.1; pairing=true; else host=127.0.0.1; pairing=false; fi
sed -e "s/@HOST@/$host/g" -e "s/@PAIRING@/$pairing/g" "$here/config/kiosk.env" \
    | put_text /etc/urne/kiosk.env 0644

# 7. Hardware: watchdog, no console blanking, optional RTC.
add_line "$boot_dir/config.txt" "dtparam=watchdog=on"
if [[ -f "$root$boot_dir/cmdline.txt" ]] && ! grep -q 'consoleblank=0' "$root$boot_dir/cmdline.txt"; then
    # cmdline.txt is one line: append to it, never add a second line.
    sed -i '1 s/$/ consoleblank=0/' "$root$boot_dir/cmdline.txt"
    log "added consoleblank=0 to $boot_dir/cmdline.txt"
fi
if [[ "$rtc" == ds3231 ]]; then
    add_line "$boot_dir/config.txt" "dtparam=i2c_arm=on"
    add_line "$boot_dir/config.txt" "dtoverlay=i2c-rtc,ds3231"
    # fake-hwclock would put back the last saved time over the module's real one.
    if [[ $files_only -eq 0 ]] && dpkg -s fake-hwclock >/dev/null 2>&1; then
        apt-get purge -y -qq fake-hwclock
    fi
fi

# 8. Tablet mode: the stand's own Wi-Fi, with no route anywhere.
if [[ $tablets -eq 1 ]]; then
    [[ -n "$ssid" ]] || ssid="urne-$(hostname -s)"
    if [[ ! "$ssid" =~ ^[A-Za-z0-9._-]{1,32}$ ]]; then
        echo "setup.sh: --ssid must be 1-32 letters, digits, '.', '_' or '-', got '$ssid'" >&2
        exit 2
    fi
    sed -e "s/@SSID@/$ssid/" "$here/config/hostapd.conf" | put_text /etc/hostapd/hostapd.conf 0644
    put "$here/config/dnsmasq-urne.conf" /etc/dnsmasq.d/urne.conf 0644
    put "$here/config/networkmanager-urne.conf" /etc/NetworkManager/conf.d/urne.conf 0644
    psk="$root/etc/hostapd/urne.psk"
    if [[ -n "$passphrase_file" ]]; then
        passphrase="$(head -n 1 "$passphrase_file")"
    elif [[ -f "$psk" ]]; then
        passphrase="$(awk '{print $2}' "$psk")"
    else
        # Read a fixed amount first: `tr </dev/urandom | head` would die of SIGPIPE under pipefail.
        passphrase="$(head -c 4096 /dev/urandom | LC_ALL=C tr -dc 'a-km-z2-9')"
        passphrase="${passphrase:0:20}"
    fi
    if ((${#passphrase} < 8 || ${#passphrase} > 63)); then
        echo "setup.sh: the Wi-Fi passphrase must have 8 to 63 characters, got ${#passphrase}" >&2
        exit 2
    fi
    (umask 077 && printf '00:00:00:00:00:00 %s\n' "$passphrase" >"$psk.new")
    if cmp -s "$psk.new" "$psk"; then rm -f "$psk.new"; else mv "$psk.new" "$psk"; log "wrote /etc/hostapd/urne.psk"; fi
    chmod 0600 "$psk"
fi

# 9. Start at boot.
if [[ $files_only -eq 0 ]]; then
    timedatectl set-timezone Europe/Paris || true
    systemctl daemon-reload
    udevadm control --reload
    sysctl --quiet --load /etc/sysctl.d/90-urne.conf
    systemctl set-default graphical.target
    systemctl disable getty@tty1.service >/dev/null 2>&1 || true
    systemctl enable urne-kiosk.service urne-screen.service
    if [[ $tablets -eq 1 ]]; then
        systemctl unmask hostapd.service
        systemctl enable urne-ap-address.service hostapd.service dnsmasq.service
    else
        systemctl disable urne-ap-address.service >/dev/null 2>&1 || true
    fi
fi

log "done. Next: enrol the device (docs/deploy.md, 'Enrolling the device'), then reboot."
if [[ $tablets -eq 1 ]]; then
    log "tablet Wi-Fi: '$ssid', passphrase in /etc/hostapd/urne.psk; kiosk at http://10.42.0.1:5000/"
fi
