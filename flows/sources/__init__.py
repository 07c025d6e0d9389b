"""Where records come from: local files, Common Crawl listings over fsspec, the demo crawl. No Prefect here."""
