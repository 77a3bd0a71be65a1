"""What the kiosk's and the central's pages share about languages."""

# Each language named in itself, so a resident recognises their own.
NATIVE_NAMES = {
    "fr": "Français",
    "en": "English",
    "es": "Español",
    "eu": "Euskara",
    "oc": "Occitan",
}
