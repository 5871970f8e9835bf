package io.dagy.gateway.legacy;

import io.dagy.tables.DagyTable;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Every item of an installation's tables as JSON, and back: how a store written by an earlier version of Dagy is kept
 * as a test fixture. Binary attributes are base64; numbers keep their exact text.
 */
final class TableDump {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TableDump() {
    }

    /** {table enum name: [item, ...]} for every table that has items. */
    static String dump(DynamoDbClient dynamoDb, Function<DagyTable, String> names) {
        ObjectNode root = JSON.createObjectNode();
        for (DagyTable table : DagyTable.values()) {
            ArrayNode items = JSON.createArrayNode();
            dynamoDb.scanPaginator(b -> b.tableName(names.apply(table)).consistentRead(true)).items()
                    .forEach(item -> items.add(toJson(item)));
            if (!items.isEmpty()) {
                root.set(table.name(), items);
            }
        }
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root);
    }

    /** Puts every item of a dump into the tables {@code names} gives (they must exist). */
    static void load(DynamoDbClient dynamoDb, String dump, Function<DagyTable, String> names) {
        JsonNode root = JSON.readTree(dump);
        for (var entry : root.properties()) {
            String table = names.apply(DagyTable.valueOf(entry.getKey()));
            for (JsonNode item : entry.getValue()) {
                dynamoDb.putItem(b -> b.tableName(table).item(fromJson(item).m()));
            }
        }
    }

    private static ObjectNode toJson(Map<String, AttributeValue> item) {
        ObjectNode node = JSON.createObjectNode();
        new java.util.TreeMap<>(item).forEach((name, value) -> node.set(name, toJson(value)));
        return node;
    }

    private static JsonNode toJson(AttributeValue value) {
        ObjectNode node = JSON.createObjectNode();
        switch (value.type()) {
            case S -> node.put("S", value.s());
            case N -> node.put("N", value.n());
            case B -> node.put("B", Base64.getEncoder().encodeToString(value.b().asByteArray()));
            case BOOL -> node.put("BOOL", value.bool());
            case NUL -> node.put("NULL", true);
            case SS -> value.ss().forEach(node.putArray("SS")::add);
            case NS -> value.ns().forEach(node.putArray("NS")::add);
            case M -> node.set("M", toJson(value.m()));
            case L -> {
                ArrayNode list = node.putArray("L");
                value.l().forEach(element -> list.add(toJson(element)));
            }
            default -> throw new IllegalArgumentException("unsupported attribute type " + value.type());
        }
        return node;
    }

    private static AttributeValue fromJson(JsonNode node) {
        if (!node.has("S") && !node.has("N") && !node.has("B") && !node.has("BOOL") && !node.has("NULL")
                && !node.has("SS") && !node.has("NS") && !node.has("M") && !node.has("L")) {
            Map<String, AttributeValue> item = new LinkedHashMap<>();
            node.properties().forEach(e -> item.put(e.getKey(), fromJson(e.getValue())));
            return AttributeValue.fromM(item);
        }
        if (node.has("S")) return AttributeValue.fromS(node.get("S").asString());
        if (node.has("N")) return AttributeValue.fromN(node.get("N").asString());
        if (node.has("B")) return AttributeValue.fromB(SdkBytes.fromByteArray(Base64.getDecoder().decode(node.get("B").asString())));
        if (node.has("BOOL")) return AttributeValue.fromBool(node.get("BOOL").asBoolean());
        if (node.has("NULL")) return AttributeValue.fromNul(true);
        if (node.has("SS")) return AttributeValue.fromSs(strings(node.get("SS")));
        if (node.has("NS")) return AttributeValue.fromNs(strings(node.get("NS")));
        if (node.has("M")) {
            Map<String, AttributeValue> map = new HashMap<>();
            node.get("M").properties().forEach(e -> map.put(e.getKey(), fromJson(e.getValue())));
            return AttributeValue.fromM(map);
        }
        List<AttributeValue> list = new ArrayList<>();
        node.get("L").forEach(element -> list.add(fromJson(element)));
        return AttributeValue.fromL(list);
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(element -> values.add(element.asString()));
        return values;
    }
}
