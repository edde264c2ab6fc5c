-- Database per service, each owned by the service's own role and closed to every other role:
-- a service can reach no tables but its own. Run once by the postgres image on an empty volume
-- (psql 15+), with each role's password from the container's environment (compose refuses to
-- start without them). Nothing crosses between services but events and HTTP.
\set ON_ERROR_STOP on

\getenv ingest_password INGEST_DB_PASSWORD
CREATE ROLE luoshi_ingest LOGIN PASSWORD :'ingest_password';
CREATE DATABASE luoshi_ingest OWNER luoshi_ingest;
REVOKE ALL ON DATABASE luoshi_ingest FROM PUBLIC;

\getenv registry_password REGISTRY_DB_PASSWORD
CREATE ROLE luoshi_registry LOGIN PASSWORD :'registry_password';
CREATE DATABASE luoshi_registry OWNER luoshi_registry;
REVOKE ALL ON DATABASE luoshi_registry FROM PUBLIC;

\getenv progress_password PROGRESS_DB_PASSWORD
CREATE ROLE luoshi_progress LOGIN PASSWORD :'progress_password';
CREATE DATABASE luoshi_progress OWNER luoshi_progress;
REVOKE ALL ON DATABASE luoshi_progress FROM PUBLIC;

\getenv notify_password NOTIFY_DB_PASSWORD
CREATE ROLE luoshi_notify LOGIN PASSWORD :'notify_password';
CREATE DATABASE luoshi_notify OWNER luoshi_notify;
REVOKE ALL ON DATABASE luoshi_notify FROM PUBLIC;
