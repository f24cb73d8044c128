#!/bin/sh
# Run by the postgres image at its first start (an empty data volume): a role and a database Gatehouse
# owns, since only a database's owner may create tables in its public schema (PostgreSQL 15+), which
# `gatehouse migrate` does. The password comes from the environment, never from this file.
set -eu
psql -v ON_ERROR_STOP=1 -v password="$GATEHOUSE_DB_PASSWORD" --username "$POSTGRES_USER" --dbname postgres <<'SQL'
CREATE ROLE gatehouse LOGIN PASSWORD :'password';
CREATE DATABASE gatehouse OWNER gatehouse;
SQL
