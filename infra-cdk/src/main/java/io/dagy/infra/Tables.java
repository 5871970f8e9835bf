package io.dagy.infra;

import io.dagy.tables.DagyTable;
import io.dagy.tables.TableDesign;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.services.dynamodb.Attribute;
import software.amazon.awscdk.services.dynamodb.AttributeType;
import software.amazon.awscdk.services.dynamodb.BillingMode;
import software.amazon.awscdk.services.dynamodb.PointInTimeRecoverySpecification;
import software.amazon.awscdk.services.dynamodb.Table;
import software.amazon.awscdk.services.dynamodb.TableEncryption;
import software.amazon.awscdk.services.dynamodb.TableProps;
import software.constructs.Construct;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * Every table of the one catalogue, {@link DagyTable}: the same names ({@code dagy-<table>-<environment>}), keys and
 * time to live that {@code TableBootstrap} creates locally, so the two cannot drift. On-demand billing, as the
 * catalogue assumes. In production: point-in-time recovery, deletion protection, and kept when the stack is deleted.
 */
final class Tables extends Construct {

    private final Map<DagyTable, Table> tables = new EnumMap<>(DagyTable.class);

    Tables(Construct scope, String id, Settings settings) {
        super(scope, id);
        for (DagyTable table : DagyTable.values()) {
            tables.put(table, new Table(this, table.name(), props(table, settings)));
        }
    }

    static TableProps props(DagyTable table, Settings settings) {
        TableDesign design = table.design();
        TableProps.Builder props = TableProps.builder()
                .tableName(table.defaultName(settings.environment()))
                .partitionKey(attribute(design.partitionKey()))
                .sortKey(attribute(design.sortKey()))
                .billingMode(BillingMode.PAY_PER_REQUEST)
                .encryption(TableEncryption.AWS_MANAGED)
                .pointInTimeRecoverySpecification(PointInTimeRecoverySpecification.builder()
                        .pointInTimeRecoveryEnabled(settings.production()).build())
                .deletionProtection(settings.production())
                .removalPolicy(settings.production() ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY);
        design.timeToLive().ifPresent(props::timeToLiveAttribute);
        return props.build();
    }

    private static Attribute attribute(TableDesign.Key key) {
        AttributeType type = switch (key.type()) {
            case S -> AttributeType.STRING;
            case N -> AttributeType.NUMBER;
            case B -> AttributeType.BINARY;
        };
        return Attribute.builder().name(key.name()).type(type).build();
    }

    Map<DagyTable, Table> all() {
        return Collections.unmodifiableMap(tables);
    }
}
