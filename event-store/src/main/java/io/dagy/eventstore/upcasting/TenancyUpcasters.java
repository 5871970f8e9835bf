package io.dagy.eventstore.upcasting;

import io.dagy.contracts.deployment.DeploymentEvents.DeploymentPublished;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.contracts.identity.OrgId;
import io.dagy.contracts.run.RunEvents.RunStarted;
import org.axonframework.messaging.MetaData;
import org.axonframework.serialization.SimpleSerializedType;
import org.axonframework.serialization.upcasting.event.EventUpcaster;
import org.axonframework.serialization.upcasting.event.IntermediateEventRepresentation;
import org.axonframework.serialization.upcasting.event.SingleEventUpcaster;
import tools.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Events stored before organizations existed, read as events of the default organization: the payloads that name an
 * owner get {@code organization = default} (their revision {@code null} becomes 1), and every event without
 * organization metadata gets {@code org_id = default} and the actor {@code system:before-tenancy}.
 */
public final class TenancyUpcasters {

    private TenancyUpcasters() {
    }

    /** In chain order. */
    public static List<EventUpcaster> all() {
        return List.of(new AddTenancyMetadata(),
                new AddOrganization(DeploymentPublished.class.getName()),
                new AddOrganization(RunStarted.class.getName()));
    }

    /** Revision {@code null} of an event that now names its organization becomes revision 1, of the default one. */
    static final class AddOrganization extends SingleEventUpcaster {

        private final SimpleSerializedType before;
        private final SimpleSerializedType after;

        AddOrganization(String eventClass) {
            this.before = new SimpleSerializedType(eventClass, null);
            this.after = new SimpleSerializedType(eventClass, "1");
        }

        @Override
        protected boolean canUpcast(IntermediateEventRepresentation representation) {
            return before.equals(representation.getType());
        }

        @Override
        protected IntermediateEventRepresentation doUpcast(IntermediateEventRepresentation representation) {
            return representation.upcastPayload(after, ObjectNode.class,
                    payload -> {
                        // ids are records, serialized as objects: {"value": "default"}
                        payload.putObject("organization").put("value", OrgId.DEFAULT.value());
                        return payload;
                    });
        }
    }

    /**
     * An event with neither organization nor actor in its metadata was stored before tenancy (every event since
     * carries an actor; events of people, who belong to no one organization, carry no organization).
     */
    static final class AddTenancyMetadata extends SingleEventUpcaster {

        private static final Map<String, String> BEFORE_TENANCY = Map.of(
                MessageKeys.ORG_ID, OrgId.DEFAULT.value(),
                MessageKeys.ACTOR_KIND, MessageKeys.BEFORE_TENANCY.kind().code(),
                MessageKeys.ACTOR_ID, MessageKeys.BEFORE_TENANCY.id());

        @Override
        protected boolean canUpcast(IntermediateEventRepresentation representation) {
            MetaData metaData = representation.getMetaData().getObject();
            return !metaData.containsKey(MessageKeys.ORG_ID) && !metaData.containsKey(MessageKeys.ACTOR_KIND);
        }

        @Override
        protected IntermediateEventRepresentation doUpcast(IntermediateEventRepresentation representation) {
            return representation.upcast(representation.getType(), byte[].class, Function.identity(),
                    (MetaData metaData) -> metaData.mergedWith(BEFORE_TENANCY));
        }
    }
}
