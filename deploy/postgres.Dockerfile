# The archive's database for docker-compose.yml: PostgreSQL 16 with the rum extension, so that search ranks in
# its index (db/search.py, migration 0013). The official image installs from PostgreSQL's own apt repository,
# which packages rum for every version it ships.
FROM postgres:16
RUN apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}-rum" \
    && rm -rf /var/lib/apt/lists/*
