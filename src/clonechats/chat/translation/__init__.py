"""Translation chats: a conversation where the user and the persona each use their language."""
