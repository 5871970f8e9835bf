package io.dagy.gateway;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** The module rules of STYLE.md, checked over every Dagy class on the application's class path. */
class ModuleBoundariesTest {

    private static JavaClasses dagy;

    @BeforeAll
    static void importDagyClasses() {
        dagy = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("io.dagy");
    }

    @Test
    void contractsDependOnNothingButTheJdk() {
        classes().that().resideInAPackage("io.dagy.contracts..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("io.dagy.contracts..", "java..")
                .allowEmptyShould(false)
                .check(dagy);
    }

    @Test
    void onlyTheApiGatewayKnowsHttp() {
        noClasses().that().resideOutsideOfPackage("io.dagy.gateway..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "org.springframework.web..", "org.springframework.http..", "jakarta.servlet..",
                        "org.springframework.boot.webmvc..")
                .check(dagy);
    }

    @Test
    void theEventStoreKnowsNothingOfTheDomain() {
        noClasses().that().resideInAnyPackage("io.dagy.eventstore..", "io.dagy.tables..", "io.dagy.localstack..")
                .should().dependOnClassesThat().resideInAnyPackage("io.dagy.gateway..", "io.dagy.command..",
                        "io.dagy.saga..", "io.dagy.projection..", "io.dagy.query..")
                .check(dagy);
    }
}
