"""In-app notifications and the e-mails that go with them."""
