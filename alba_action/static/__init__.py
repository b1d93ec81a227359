"""Static artifacts in the df-dist-v1 layout: scan SRC_DIR, plan documents, push/ls/rm/gc."""
