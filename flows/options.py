"""Choice types shared by several flows' parameters (the CLI turns them into `choices`)."""

from typing import Literal

Runner = Literal["auto", "threads", "processes", "dask"]
Extractor = Literal["resiliparse", "trafilatura"]
Device = Literal["auto", "cpu", "cuda"]
