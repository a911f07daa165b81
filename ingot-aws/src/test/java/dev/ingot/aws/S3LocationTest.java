package dev.ingot.aws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ingot.error.ErrorCode;
import dev.ingot.error.IngotException;
import org.junit.jupiter.api.Test;

class S3LocationTest {

    @Test
    void aLocationSplitsIntoBucketAndPrefix() {
        S3Location location = S3Location.parse("s3://fleet-images/golden/edge");

        assertThat(location.bucket()).isEqualTo("fleet-images");
        assertThat(location.prefix()).isEqualTo("golden/edge");
        assertThat(location.objectKey("releases/1.0.json")).isEqualTo("golden/edge/releases/1.0.json");
        assertThat(location.storeKey("golden/edge/releases/1.0.json")).isEqualTo("releases/1.0.json");
        assertThat(location).hasToString("s3://fleet-images/golden/edge");
    }

    @Test
    void slashesAroundThePrefixAreDroppedSoKeysNeverHaveDoubleSlashes() {
        S3Location location = S3Location.parse("s3://fleet-images//golden/");

        assertThat(location.prefix()).isEqualTo("golden");
        assertThat(location.objectKey("a.img")).isEqualTo("golden/a.img");
    }

    @Test
    void aBareBucketHasAnEmptyPrefix() {
        S3Location location = S3Location.parse("s3://fleet-images/");

        assertThat(location.prefix()).isEmpty();
        assertThat(location.objectKey("a.img")).isEqualTo("a.img");
        assertThat(location).hasToString("s3://fleet-images");
    }

    @Test
    void somethingOtherThanAnS3LocationIsBadInput() {
        for (String wrong : new String[] {"fleet-images/golden", "https://fleet-images/golden", "s3://", "s3:///golden",
                "s3://fleet-images/golden//edge"}) {
            assertThatThrownBy(() -> S3Location.parse(wrong))
                    .as(wrong)
                    .isInstanceOfSatisfying(IngotException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_INPUT));
        }
    }
}
