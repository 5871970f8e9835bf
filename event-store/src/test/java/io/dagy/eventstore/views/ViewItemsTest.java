package io.dagy.eventstore.views;

import io.dagy.eventstore.support.TestSerializer;
import org.axonframework.serialization.Serializer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class ViewItemsTest {

    record Listing(String name, List<String> taskIds) {
    }

    private final Serializer serializer = TestSerializer.jackson();

    @Test
    void aSmallViewIsStoredAsItIs() {
        Listing small = new Listing("small", List.of("a", "b"));
        var item = ViewItems.item("pk", "sk", small, serializer);

        assertThat(item).doesNotContainKey("view_gzip");
        assertThat(ViewItems.<Listing>view(item, serializer)).isEqualTo(small);
    }

    @Test
    void aViewOfTenThousandTasksIsCompressedWellUnderTheItemLimitAndReadsBackTheSame() {
        Listing large = new Listing("large", IntStream.range(0, 10_000).mapToObj(i -> "task_" + i).toList());
        var item = ViewItems.item("pk", "sk", large, serializer);

        assertThat(item.get("view_gzip").bool()).isTrue();
        assertThat(item.get("view").b().asByteArray().length).isLessThan(100 * 1024);
        assertThat(ViewItems.<Listing>view(item, serializer)).isEqualTo(large);
    }
}
