package dev.ingot.sign;

import java.time.Instant;

/** A signature that checked out: who made it (the primary key's fingerprint and user id) and when. */
public record VerifiedSignature(Fingerprint signer, String userId, Instant created) {}
