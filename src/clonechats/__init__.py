"""Clone Chats: a self-hostable platform for original AI personas."""

__version__ = "0.1.0"
