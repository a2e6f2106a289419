"""Forms out and returns in by email: composing messages, drafts and SMTP, collecting from mailboxes."""
