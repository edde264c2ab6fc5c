-- Database per service: each service owns its tables and nothing crosses but events and HTTP.
CREATE DATABASE luoshi_ingest;
CREATE DATABASE luoshi_registry;
CREATE DATABASE luoshi_progress;
CREATE DATABASE luoshi_notify;
