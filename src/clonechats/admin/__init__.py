"""Admin: dashboards and tools over the other domains, for users with the `admin` role.

Every admin route in the project is added to `admin.routes.api` (`/api/v1/admin/...`) or
`admin.routes.pages` (`/admin/...`). Both routers carry the `admin_user` dependency, so the role
is checked on the server for each request (401 signed out, 403 for everyone but admins) before
any route code runs; a route added to them cannot forget it. Add no admin route anywhere else:
`tests/admin/test_admin_access.py` calls every route under these prefixes as a stranger and as a
normal user and expects to be refused.
"""
