package io.dagy.gateway.run;

import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunId;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A key names the run it named before its derivation moved to the contracts: stored runs started with a key must be
 * found by the same key after an upgrade (values computed independently, SHA-256 of scope and key).
 */
class IdempotencyKeyRunIdTest {

    @Test
    void theDerivationIsStable() {
        assertThat(RunId.forIdempotencyKey(OrgId.DEFAULT, "etl", "key-1").value())
                .isEqualTo("r-2f2f90a520acd106235b2503f37b29cc");
        assertThat(RunId.forIdempotencyKey(new OrgId("acme"), "etl", "key-1").value())
                .isEqualTo("r-51181dd851522e6807bbc13cb33a10af");
        assertThat(RunId.forIdempotencyKey(new OrgId("acme"), "etl", "key-2"))
                .isNotEqualTo(RunId.forIdempotencyKey(new OrgId("acme"), "etl", "key-1"));
    }
}
