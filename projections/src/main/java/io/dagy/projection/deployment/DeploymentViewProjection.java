package io.dagy.projection.deployment;

import io.dagy.contracts.deployment.DeploymentEvents.DeploymentPublished;
import io.dagy.contracts.deployment.DeploymentEvents.DeploymentSettingsChanged;
import io.dagy.contracts.deployment.DeploymentQueries.DeploymentView;
import io.dagy.eventstore.tx.DynamoWrites;
import io.dagy.contracts.identity.MessageKeys;
import io.dagy.eventstore.views.ViewItems;
import io.dagy.eventstore.views.ViewKeys;
import org.axonframework.messaging.annotation.MetaDataValue;
import org.axonframework.config.ProcessingGroup;
import org.axonframework.eventhandling.EventHandler;
import org.axonframework.eventhandling.ResetHandler;
import org.axonframework.eventhandling.SequenceNumber;
import org.axonframework.eventhandling.Timestamp;
import org.axonframework.serialization.Serializer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.time.Instant;
import java.util.Map;

/**
 * The current version of every deployment in {@code DAGY_DEPLOYMENTS}: one item per deployment in its organization's
 * partition ({@link ViewKeys#deployments}), sorted by name ({@code sk}), so listing is one query. The view is stored serialized with
 * the sequence number of the last event applied; an event at or below it is skipped, so redeliveries are harmless.
 */
@ProcessingGroup(DeploymentViewProjection.PROCESSING_GROUP)
public class DeploymentViewProjection {

    public static final String PROCESSING_GROUP = "deployment-views";

    private final DynamoDbClient dynamoDb;
    private final String table;
    private final Serializer serializer;

    public DeploymentViewProjection(DynamoDbClient dynamoDb, String table, Serializer serializer) {
        this.dynamoDb = dynamoDb;
        this.table = table;
        this.serializer = serializer;
    }

    @EventHandler
    void on(DeploymentPublished event, @SequenceNumber long sequence, @Timestamp Instant at) {
        if (!alreadyApplied(event.organization().value(), event.name().value(), sequence)) {
            write(new DeploymentView(event.organization(), event.name(), event.version(), event.dag(), event.settings(),
                    at), sequence);
        }
    }

    @EventHandler
    void on(DeploymentSettingsChanged event, @MetaDataValue(MessageKeys.ORG_ID) String org,
            @SequenceNumber long sequence, @Timestamp Instant at) {
        if (alreadyApplied(org, event.name().value(), sequence)) {
            return;
        }
        DeploymentView current = DeploymentViews.read(dynamoDb, table, serializer, org, event.name().value())
                .orElseThrow(() -> new IllegalStateException("settings of unknown deployment " + event.name()));
        write(new DeploymentView(current.organization(), current.name(), current.version(), current.dag(),
                event.settings(), at), sequence);
    }

    /** Whether the stored view already reflects this event of the deployment (a redelivery or an old replay). */
    private boolean alreadyApplied(String org, String name, long sequence) {
        return DynamoWrites.get(dynamoDb, table, DeploymentViews.key(org, name))
                .filter(item -> item.containsKey("seq") && Long.parseLong(item.get("seq").n()) >= sequence)
                .isPresent();
    }

    @ResetHandler
    void reset() {
        DeploymentViews.deleteAll(dynamoDb, table);
    }

    private void write(DeploymentView view, long sequence) {
        Map<String, AttributeValue> item = ViewItems.item(ViewKeys.deployments(view.organization().value()),
                view.name().value(), view, serializer);
        item.put("version", AttributeValue.fromN(Integer.toString(view.version())));
        item.put("seq", AttributeValue.fromN(Long.toString(sequence)));
        DynamoWrites.put(dynamoDb, table, item, ViewItems.key(item));
    }
}
