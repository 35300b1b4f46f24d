# newsmon with the PostgreSQL driver; config.yaml is mounted at /config/config.yaml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY newsmon ./newsmon
COPY crawler ./crawler
COPY db ./db
COPY alerts ./alerts
COPY scheduler ./scheduler
RUN pip install --no-cache-dir . && useradd --create-home newsmon
USER newsmon
ENV NEWSMON_CONFIG=/config/config.yaml
ENTRYPOINT ["newsmon"]
CMD ["crawl"]
