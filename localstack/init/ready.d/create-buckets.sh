#!/usr/bin/env bash
# LocalStack init hook (ready stage): the service's two buckets, private as in AWS.
set -euo pipefail
for bucket in "${PROFILE_PICTURES_BUCKET:-profile-pictures}" "${FOOD_IMAGES_BUCKET:-food-images}"; do
  awslocal s3api head-bucket --bucket "$bucket" 2>/dev/null || awslocal s3api create-bucket --bucket "$bucket"
  awslocal s3api put-public-access-block --bucket "$bucket" \
    --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
done
