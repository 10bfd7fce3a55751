"""Framework adapters (optional extras): ``pgrecall.integrations.langchain``
(``pip install 'pgrecall[langchain]'``) and ``pgrecall.integrations.llama_index``.

The core never imports these; they import the core through its public names.
"""

from __future__ import annotations

__all__: list[str] = []
