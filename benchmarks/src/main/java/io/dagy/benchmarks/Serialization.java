package io.dagy.benchmarks;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.jackson3.Jackson3Serializer;
import tools.jackson.databind.jsontype.BasicPolymorphicTypeValidator;

/** The serializer the application uses: Axon's Jackson 3 serializer, allowing Axon's and Dagy's polymorphic types. */
final class Serialization {

    private Serialization() {
    }

    static Serializer jackson() {
        return Jackson3Serializer.builder()
                .jsonMapperBuilderCustomizer(builder -> builder
                        .polymorphicTypeValidator(BasicPolymorphicTypeValidator.builder()
                                .allowIfSubType("org.axonframework.")
                                .allowIfSubType("io.dagy.")
                                .build())
                        // aggregates (as snapshots) keep their state in private fields
                        .changeDefaultVisibility(visibility -> visibility
                                .withFieldVisibility(JsonAutoDetect.Visibility.ANY)))
                .build();
    }
}
