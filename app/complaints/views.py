from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("complaints", __name__, template_folder="templates")
