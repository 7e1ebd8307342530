-- PostgreSQL roles and database for Reporting Portal. See README.md in this folder.
-- Run once, as a superuser:   sudo -u postgres psql -f roles.sql
-- Then give the owner role a password:   sudo -u postgres psql -c '\password reporting_portal_owner'
--
-- reporting_portal_owner  owns the schema; runs `reporting-portal init` and
--                         `reporting-portal db upgrade` (Alembic migrations). Never used by
--                         the running application.
-- reporting_portal        the application (both gunicorn services and day-to-day CLI
--                         commands such as create-user): reads and writes rows, cannot
--                         create, alter or drop anything.
-- The access log (audit_event, audit_tree_node, audit_tree_head) is append-only: the
-- migration that creates its Merkle tables revokes UPDATE, DELETE and TRUNCATE on them
-- from every role but the owner, and triggers refuse them even to the owner. The last
-- lines below repeat the revocation for a database migrated before this file changed.

\set ON_ERROR_STOP on

CREATE ROLE reporting_portal_owner
    LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE ROLE reporting_portal
    LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;

CREATE DATABASE reporting_portal
    OWNER reporting_portal_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE reporting_portal FROM PUBLIC;
GRANT CONNECT ON DATABASE reporting_portal TO reporting_portal;

\connect reporting_portal

-- Only the owner creates objects; the application may only use them.
ALTER SCHEMA public OWNER TO reporting_portal_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO reporting_portal;

-- Every table and sequence the owner creates from now on (each migration) ...
ALTER DEFAULT PRIVILEGES FOR ROLE reporting_portal_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO reporting_portal;
ALTER DEFAULT PRIVILEGES FOR ROLE reporting_portal_owner IN SCHEMA public
    GRANT USAGE ON SEQUENCES TO reporting_portal;

-- ... and any that exist already (harmless on an empty database; the same two lines
-- repair privileges if migrations were ever run by another role).
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO reporting_portal;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO reporting_portal;

-- The application may only append to the access log and read it.
DO $$
BEGIN
    IF to_regclass('public.audit_event') IS NOT NULL THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON audit_event, audit_tree_node, audit_tree_head
            FROM reporting_portal;
    END IF;
END $$;
