package io.dagy.infra;

import io.dagy.tables.DagyTable;
import io.dagy.tables.TableDesign;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awscdk.assertions.Match;
import software.amazon.awscdk.assertions.Template;

import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every table comes from the catalogue, with its keys, time to live and the environment's protection. */
class TablesTest {

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void everyTableOfTheCatalogueIsDeployedWithItsKeysOnDemand(String environment) {
        Template template = Synth.environment(environment).service();
        template.resourceCountIs("AWS::DynamoDB::Table", DagyTable.values().length);
        for (DagyTable table : DagyTable.values()) {
            var design = table.design();
            template.hasResourceProperties("AWS::DynamoDB::Table", Match.objectLike(Map.of(
                    "TableName", table.defaultName(environment),
                    "BillingMode", "PAY_PER_REQUEST",
                    "KeySchema", List.of(
                            Map.of("AttributeName", design.partitionKey().name(), "KeyType", "HASH"),
                            Map.of("AttributeName", design.sortKey().name(), "KeyType", "RANGE")),
                    "AttributeDefinitions", List.of(
                            Map.of("AttributeName", design.partitionKey().name(),
                                    "AttributeType", design.partitionKey().type().name()),
                            Map.of("AttributeName", design.sortKey().name(),
                                    "AttributeType", design.sortKey().type().name())),
                    "TimeToLiveSpecification", design.timeToLive()
                            .<Object>map(attribute -> Map.of("AttributeName", attribute, "Enabled", true))
                            .orElse(Match.absent()))));
        }
    }

    /**
     * {@link Tables} maps every part of a table's design (keys, time to live); the catalogue has no secondary index
     * today. A part added to {@link TableDesign} (a global index, a stream) must be mapped there and in
     * {@code TableBootstrap} too, or the deployed and the local tables drift: this test fails until then.
     */
    @Test
    void theDeploymentMapsEveryPartOfATablesDesign() {
        assertThat(Arrays.stream(TableDesign.class.getRecordComponents()).map(RecordComponent::getName))
                .containsExactly("partitionKey", "sortKey", "timeToLive");
    }

    @ParameterizedTest
    @MethodSource("io.dagy.infra.Synth#environments")
    void productionTablesHaveRecoveryAndDeletionProtectionAndOutliveTheStack(String environment) {
        boolean production = Synth.environment(environment).settings().production();
        Map<String, Map<String, Object>> tables = Synth.environment(environment).service()
                .findResources("AWS::DynamoDB::Table");
        assertThat(tables).isNotEmpty();
        tables.forEach((id, table) -> {
            @SuppressWarnings("unchecked")
            Map<String, Object> properties = (Map<String, Object>) table.get("Properties");
            assertThat(properties.get("PointInTimeRecoverySpecification")).as(id)
                    .isEqualTo(Map.of("PointInTimeRecoveryEnabled", production));
            assertThat(properties.get("DeletionProtectionEnabled")).as(id).isEqualTo(production);
            assertThat(table.get("DeletionPolicy")).as(id).isEqualTo(production ? "Retain" : "Delete");
        });
    }
}
