package io.dagy.eventstore.upcasting;

import io.dagy.contracts.Revision;
import org.axonframework.serialization.AnnotationRevisionResolver;
import org.axonframework.serialization.RevisionResolver;

/**
 * Revisions of serialized types: Dagy's own {@link Revision} on contract records (contracts depend on nothing, so they
 * cannot use Axon's annotation), else Axon's {@code @Revision} for everything else (sagas, deadline payloads).
 */
public final class ContractRevisionResolver implements RevisionResolver {

    private final RevisionResolver axon = new AnnotationRevisionResolver();

    @Override
    public String revisionOf(Class<?> payloadType) {
        Revision revision = payloadType.getAnnotation(Revision.class);
        return revision != null ? revision.value() : axon.revisionOf(payloadType);
    }
}
