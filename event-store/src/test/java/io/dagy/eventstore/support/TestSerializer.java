package io.dagy.eventstore.support;

import org.axonframework.serialization.Serializer;
import org.axonframework.serialization.jackson3.Jackson3Serializer;
import tools.jackson.databind.jsontype.BasicPolymorphicTypeValidator;

/** The serializer the application uses: Jackson 3, allowing Axon's and Dagy's types inside polymorphic tokens. */
public final class TestSerializer {

    private TestSerializer() {
    }

    public static Serializer jackson() {
        return Jackson3Serializer.builder()
                .jsonMapperBuilderCustomizer(builder -> builder
                        .polymorphicTypeValidator(BasicPolymorphicTypeValidator.builder()
                                .allowIfSubType("org.axonframework.")
                                .allowIfSubType("io.dagy.")
                                .build())
                        // sagas keep their state in private fields
                        .changeDefaultVisibility(visibility -> visibility
                                .withFieldVisibility(com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility.ANY)))
                .build();
    }
}
