-- 0011_domain_role: a domain's role (store.DomainHosted, the behaviour of
-- every domain before, or store.DomainRelay: mailroom holds its sending
-- identities while its mail lives upstream, delivered by its route).
ALTER TABLE domains ADD COLUMN role TEXT NOT NULL DEFAULT 'hosted';
