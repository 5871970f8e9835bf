package io.dagy.eventstore.views;

import io.dagy.eventstore.events.Compression;
import org.axonframework.serialization.SerializedObject;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.SimpleSerializedObject;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

import java.util.HashMap;
import java.util.Map;

/**
 * The one format of read-model items: keys {@code pk}/{@code sk}, the view serialized by Axon's serializer in
 * {@code view}, and its type in {@code view_type}. Projections write with it and query handlers read with it, so the two
 * sides cannot disagree. A view over {@link #COMPRESSION_THRESHOLD} bytes is stored gzip-compressed (marked by
 * {@code view_gzip}): a deployment of thousands of tasks, or a run listing all of them, would not fit DynamoDB's
 * 400 KB item otherwise.
 */
public final class ViewItems {

    static final int COMPRESSION_THRESHOLD = 8 * 1024;
    private static final String GZIP = "view_gzip";

    private ViewItems() {
    }

    /** An item holding a view under the given keys; callers may add attributes (for filters) to the returned map. */
    public static Map<String, AttributeValue> item(String partitionKey, String sortKey, Object view, Serializer serializer) {
        SerializedObject<byte[]> data = serializer.serialize(view, byte[].class);
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("pk", AttributeValue.fromS(partitionKey));
        item.put("sk", AttributeValue.fromS(sortKey));
        byte[] bytes = data.getData();
        if (bytes.length > COMPRESSION_THRESHOLD) {
            bytes = Compression.gzip(bytes);
            item.put(GZIP, AttributeValue.fromBool(true));
        }
        item.put("view", AttributeValue.fromB(SdkBytes.fromByteArray(bytes)));
        item.put("view_type", AttributeValue.fromS(data.getType().getName()));
        return item;
    }

    /** The keys of an item, for writes that name the item they replace. */
    public static Map<String, AttributeValue> key(Map<String, AttributeValue> item) {
        return Map.of("pk", item.get("pk"), "sk", item.get("sk"));
    }

    /** The view an item holds. */
    public static <T> T view(Map<String, AttributeValue> item, Serializer serializer) {
        byte[] bytes = item.get("view").b().asByteArray();
        if (item.containsKey(GZIP) && Boolean.TRUE.equals(item.get(GZIP).bool())) {
            bytes = Compression.gunzip(bytes);
        }
        return serializer.deserialize(new SimpleSerializedObject<>(bytes, byte[].class, item.get("view_type").s(), null));
    }
}
