# newsmon as a long-running service (`newsmon run`), with the PostgreSQL driver. docker-compose.yml runs it with
# PostgreSQL; see its top comment. config.yaml is mounted read-only at /config/config.yaml.
#
# Without PostgreSQL, keep the SQLite archive in the /data volume: a relative SQLite path in config.yaml would
# resolve next to the read-only config, so name the file explicitly:
#   docker build -t newsmon . && docker run -d --name newsmon --init --stop-timeout 60 -p 127.0.0.1:8080:8080 \
#     -v "$PWD/config.yaml:/config/config.yaml:ro" -v newsmon-data:/data \
#     -e NEWSMON_DATABASE_URL=sqlite:////data/newsmon.db newsmon
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY newsmon ./newsmon
COPY crawler ./crawler
# db/ carries db/migrations (env.py, script.py.mako, versions/), which `newsmon db upgrade` reads from the
# installed package.
COPY db ./db
COPY alerts ./alerts
COPY scheduler ./scheduler
# /data is created and handed to newsmon before VOLUME: changes to a volume path after VOLUME are discarded,
# and a fresh named volume copies this folder's ownership.
RUN pip install --no-cache-dir . \
    && useradd --create-home newsmon \
    && mkdir /data \
    && chown newsmon:newsmon /data
USER newsmon
# A writable working directory for the service (/app belongs to root).
WORKDIR /data
VOLUME /data
ENV NEWSMON_CONFIG=/config/config.yaml
EXPOSE 8080
# `newsmon run` finishes its in-flight crawls on SIGTERM; give it time (docker run --stop-timeout, compose's
# stop_grace_period): docker's default is 10 s before SIGKILL.
STOPSIGNAL SIGTERM
# slim images have no curl. open() raises on a 503 or a refused connection, so python exits 1: unhealthy;
# a hang is cut by --timeout. No proxy: one from the environment (docker passes on its client's proxy
# settings) must not get the loopback request.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", \
    "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:8080/healthz')"]
ENTRYPOINT ["newsmon"]
CMD ["run", "--http", "0.0.0.0:8080"]
