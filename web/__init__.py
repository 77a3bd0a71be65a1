"""Web pieces shared by the kiosk and the central (Flask apps): security headers, secrets, language names."""
