"""HTTP plumbing shared by every domain: errors, middleware, templates, pages."""
