"""Extension objects, created unbound and wired to the app in `create_app`."""

from flask_login import LoginManager
from flask_wtf import CSRFProtect

from app.core.db import Database

db = Database()
csrf = CSRFProtect()
login_manager = LoginManager()
