"""The bootstrap: from `terraform apply` on a laptop to a Ready platform, in order.

plan.py derives the sequence of steps (Terraform stages interleaved with Flux layers) from the component graph;
emit/bootstrap.py renders it as out/bootstrap.sh and out/README.md's "Bring it up"; check/bootstrap.py proves, over the
artifacts, that every step finds what it needs provided by an earlier one.
"""
