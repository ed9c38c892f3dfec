"""Storage adapters for kam-domain, chosen by store URL scheme (see ``kam_domain.storage``)."""
