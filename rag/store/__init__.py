"""Store: the encrypted manifest (documents, pages, passages, keyword index), the derived
vector index, the library's key and sealed files, the writer's lock and atomic writes."""
