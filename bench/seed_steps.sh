#!/usr/bin/env bash
# The seed's console steps (shared reference "seed-ecs-console-steps.md") as the AWS CLI script a careful user
# would write: what P5 of scripts/bench times against cargo-ecs's first deploy.
#
#   bench/seed_steps.sh NAME ZONE [PORT] [HEALTH_CHECK_PATH]
#
# NAME names every resource (ECR repository, role NAME-ecs, log group /ecs/NAME, cluster, security groups NAME-lb
# and NAME-tasks, load balancer, target group, task definition family, container, service); ZONE is an existing
# Route 53 hosted zone with an ISSUED ACM certificate for *.ZONE; the record is NAME.ZONE, a CNAME to the load
# balancer (as the seed says). Steps run one after the other, as in the console; each value a later step needs is
# read from an earlier step's output (--query ... --output text), as a script has to. It does not push an image
# (the seed starts after "you have uploaded your image to ECR") and does not wait for the service.
#
# `aws` is the pinned AWS CLI v1 of bench/requirements.txt (scripts/bench puts its venv first on PATH); the endpoint
# comes from AWS_ENDPOINT_URL, which the AWS CLI honours. Prints the URL at the end.
set -euo pipefail

name=${1:?usage: seed_steps.sh NAME ZONE [PORT] [HEALTH_CHECK_PATH]}
zone=${2:?usage: seed_steps.sh NAME ZONE [PORT] [HEALTH_CHECK_PATH]}
port=${3:-8080}
health=${4:-/health}
export AWS_PAGER=""

# ECR repository (the seed's first page: the image's home).
repo_uri=$(aws ecr create-repository --repository-name "$name" --image-tag-mutability IMMUTABLE \
    --image-scanning-configuration scanOnPush=true --query repository.repositoryUri --output text)

# IAM: the task execution role, trusted by ecs-tasks, with AmazonECSTaskExecutionRolePolicy.
role_arn=$(aws iam create-role --role-name "$name-ecs" --query Role.Arn --output text \
    --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
aws iam attach-role-policy --role-name "$name-ecs" \
    --policy-arn arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy

# Log group (the console's task definition page creates /ecs/FAMILY for awslogs).
aws logs create-log-group --log-group-name "/ecs/$name"

# Cluster, AWS Fargate infrastructure.
aws ecs create-cluster --cluster-name "$name" --capacity-providers FARGATE FARGATE_SPOT >/dev/null

# Networking: the default VPC and its subnets; a security group for the load balancer (80, 443 from anywhere)
# and one for the tasks (the container port from the load balancer's group only).
vpc=$(aws ec2 describe-vpcs --filters Name=is-default,Values=true --query 'Vpcs[0].VpcId' --output text)
read -r -a subnets <<<"$(aws ec2 describe-subnets --filters "Name=vpc-id,Values=$vpc" \
    --query 'Subnets[].SubnetId' --output text)"
lb_sg=$(aws ec2 create-security-group --group-name "$name-lb" --description "$name load balancer" \
    --vpc-id "$vpc" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --group-id "$lb_sg" --ip-permissions \
    'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=0.0.0.0/0}]' \
    'IpProtocol=tcp,FromPort=443,ToPort=443,IpRanges=[{CidrIp=0.0.0.0/0}]' >/dev/null
task_sg=$(aws ec2 create-security-group --group-name "$name-tasks" --description "$name tasks" \
    --vpc-id "$vpc" --query GroupId --output text)
aws ec2 authorize-security-group-ingress --group-id "$task_sg" --ip-permissions \
    "IpProtocol=tcp,FromPort=$port,ToPort=$port,UserIdGroupPairs=[{GroupId=$lb_sg}]" >/dev/null

# Application Load Balancer, target group with the health check path, HTTPS listener with the wildcard
# certificate, and HTTP 80 redirecting to it.
read -r lb_arn lb_dns <<<"$(aws elbv2 create-load-balancer --name "$name" --subnets "${subnets[@]}" \
    --security-groups "$lb_sg" --scheme internet-facing --type application \
    --query 'LoadBalancers[0].[LoadBalancerArn,DNSName]' --output text)"
tg_arn=$(aws elbv2 create-target-group --name "$name" --protocol HTTP --port "$port" --vpc-id "$vpc" \
    --target-type ip --health-check-path "$health" --query 'TargetGroups[0].TargetGroupArn' --output text)
cert_arn=$(aws acm list-certificates --certificate-statuses ISSUED \
    --query "CertificateSummaryList[?DomainName=='*.$zone'].CertificateArn | [0]" --output text)
aws elbv2 create-listener --load-balancer-arn "$lb_arn" --protocol HTTPS --port 443 \
    --certificates "CertificateArn=$cert_arn" --default-actions "Type=forward,TargetGroupArn=$tg_arn" >/dev/null
aws elbv2 create-listener --load-balancer-arn "$lb_arn" --protocol HTTP --port 80 \
    --default-actions 'Type=redirect,RedirectConfig={Protocol=HTTPS,Port=443,StatusCode=HTTP_301}' >/dev/null

# Task definition: Fargate, Linux/ARM64, 0.5 vCPU / 1 GB, the execution role, the container on the port.
containers=$(printf '[{"name":"%s","image":"%s:latest","essential":true,"portMappings":[{"containerPort":%s,"protocol":"tcp"}],"logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"/ecs/%s","awslogs-region":"%s","awslogs-stream-prefix":"ecs"}}}]' \
    "$name" "$repo_uri" "$port" "$name" "${AWS_REGION:-us-east-1}")
task_def=$(aws ecs register-task-definition --family "$name" --requires-compatibilities FARGATE \
    --network-mode awsvpc --cpu 512 --memory 1024 --execution-role-arn "$role_arn" \
    --runtime-platform cpuArchitecture=ARM64,operatingSystemFamily=LINUX \
    --container-definitions "$containers" --query taskDefinition.taskDefinitionArn --output text)

# Service: launch type Fargate, the tasks' security group, behind the target group.
subnet_list=$(IFS=,; printf '%s' "${subnets[*]}")
aws ecs create-service --cluster "$name" --service-name "$name" --task-definition "$task_def" \
    --desired-count 1 --launch-type FARGATE --health-check-grace-period-seconds 10 \
    --network-configuration "awsvpcConfiguration={subnets=[$subnet_list],securityGroups=[$task_sg],assignPublicIp=ENABLED}" \
    --load-balancers "targetGroupArn=$tg_arn,containerName=$name,containerPort=$port" >/dev/null

# Route 53: NAME.ZONE, a CNAME to the load balancer.
zone_id=$(aws route53 list-hosted-zones-by-name --dns-name "$zone" \
    --query "HostedZones[?Name=='$zone.'].Id | [0]" --output text)
aws route53 change-resource-record-sets --hosted-zone-id "${zone_id##*/}" --change-batch \
    "{\"Changes\":[{\"Action\":\"CREATE\",\"ResourceRecordSet\":{\"Name\":\"$name.$zone\",\"Type\":\"CNAME\",\"TTL\":60,\"ResourceRecords\":[{\"Value\":\"$lb_dns\"}]}}]}" >/dev/null

echo "https://$name.$zone"
