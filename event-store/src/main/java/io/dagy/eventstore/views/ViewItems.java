package io.dagy.eventstore.views;

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
 * sides cannot disagree.
 */
public final class ViewItems {

    private ViewItems() {
    }

    /** An item holding a view under the given keys; callers may add attributes (for filters) to the returned map. */
    public static Map<String, AttributeValue> item(String partitionKey, String sortKey, Object view, Serializer serializer) {
        SerializedObject<byte[]> data = serializer.serialize(view, byte[].class);
        Map<String, AttributeValue> item = new HashMap<>();
        item.put("pk", AttributeValue.fromS(partitionKey));
        item.put("sk", AttributeValue.fromS(sortKey));
        item.put("view", AttributeValue.fromB(SdkBytes.fromByteArray(data.getData())));
        item.put("view_type", AttributeValue.fromS(data.getType().getName()));
        return item;
    }

    /** The keys of an item, for writes that name the item they replace. */
    public static Map<String, AttributeValue> key(Map<String, AttributeValue> item) {
        return Map.of("pk", item.get("pk"), "sk", item.get("sk"));
    }

    /** The view an item holds. */
    public static <T> T view(Map<String, AttributeValue> item, Serializer serializer) {
        return serializer.deserialize(new SimpleSerializedObject<>(item.get("view").b().asByteArray(), byte[].class,
                item.get("view_type").s(), null));
    }
}
